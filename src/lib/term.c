/* term.c - terminal styling and control (stdlib.md §28, the tier-B part).
 *
 * Style functions return strings wrapped in ANSI SGR sequences; control
 * functions write their sequence to stdout at once (flushed) and return nil.
 * Styling is unconditional: the result does not depend on whether stdout is
 * a terminal (the reference behaves the same way).
 */
#include "lib.h"

#define ESC "\x1b"
#define RESET ESC "[0m"

static Value text_arg(VM *vm, Value v) {
  if (!is_string(v)) err_type(vm, "string", v);
  return v;
}

/* ESC[<codes>m + s + ESC[0m */
static Value wrap(VM *vm, const char *codes, Value s) {
  StrBuf b;
  sb_init_vm(&b, vm);
  sb_adds(&b, ESC "[");
  sb_adds(&b, codes);
  sb_addc(&b, 'm');
  sb_add(&b, str_data(s), str_len(s));
  sb_adds(&b, RESET);
  return sb_to_string(vm, &b);
}

/* ---- styles and colours ---- */

static const struct {
  const char *name, *code;
} styles[] = {
    {"bold", "1"},     {"dim", "2"},     {"italic", "3"}, {"underline", "4"}, {"inverse", "7"},
    {"strikethrough", "9"}, {"black", "30"}, {"red", "31"}, {"green", "32"},  {"yellow", "33"},
    {"blue", "34"},    {"magenta", "35"}, {"cyan", "36"}, {"white", "37"},    {"gray", "90"},
};
#define NSTYLES (sizeof styles / sizeof styles[0])

#define STYLE_FN(fname, code)                                \
  static Value n_##fname(VM *vm, int argc, Value *argv) {    \
    (void)argc;                                              \
    return wrap(vm, code, text_arg(vm, argv[0]));            \
  }
STYLE_FN(bold, "1")
STYLE_FN(dim, "2")
STYLE_FN(italic, "3")
STYLE_FN(underline, "4")
STYLE_FN(inverse, "7")
STYLE_FN(strikethrough, "9")
STYLE_FN(black, "30")
STYLE_FN(red, "31")
STYLE_FN(green, "32")
STYLE_FN(yellow, "33")
STYLE_FN(blue, "34")
STYLE_FN(magenta, "35")
STYLE_FN(cyan, "36")
STYLE_FN(white, "37")
STYLE_FN(gray, "90")

static Value n_style(VM *vm, int argc, Value *argv) {
  Value s = text_arg(vm, argv[0]);
  if (argc == 1) return s;
  StrBuf codes;
  sb_init_vm(&codes, vm);
  for (int i = 1; i < argc; i++) {
    Value k = argv[i];
    if (!is_kw(k)) {
      sb_free(&codes);
      err_type(vm, "keyword", k);
    }
    const char *name = sym_cstr(vm, k);
    size_t j = 0;
    while (j < NSTYLES && strcmp(styles[j].name, name) != 0) j++;
    if (j == NSTYLES) {
      sb_free(&codes);
      err_eval(vm, "term/style: unknown style keyword :%s", name);
    }
    if (i > 1) sb_addc(&codes, ';');
    sb_adds(&codes, styles[j].code);
  }
  sb_addc(&codes, '\0');
  Value r = wrap(vm, codes.data, s);
  sb_free(&codes);
  return r;
}

static Value n_rgb(VM *vm, int argc, Value *argv) {
  Value s = text_arg(vm, argv[0]);
  int64_t r = arg_int(vm, argv[1]), g = arg_int(vm, argv[2]), bl = arg_int(vm, argv[3]);
  char codes[96];
  snprintf(codes, sizeof codes, "38;2;%lld;%lld;%lld", (long long)r, (long long)g, (long long)bl);
  return wrap(vm, codes, s);
}

/* Remove CSI (ESC [ ... final byte @..~), OSC (ESC ] ... BEL or ESC \) and
 * any other ESC x pair (x one character). */
static Value n_strip(VM *vm, int argc, Value *argv) {
  Value s = text_arg(vm, argv[0]);
  const char *p = str_data(s);
  size_t len = str_len(s);
  if (!memchr(p, 0x1B, len)) return s;
  StrBuf b;
  sb_init_vm(&b, vm);
  for (size_t i = 0; i < len;) {
    if (p[i] != 0x1B) {
      size_t j = i;
      while (j < len && p[j] != 0x1B) j++;
      sb_add(&b, p + i, j - i);
      i = j;
      continue;
    }
    i++;
    if (i >= len) break;
    if (p[i] == '[') {
      for (i++; i < len && !(p[i] >= 0x40 && p[i] <= 0x7E); i++) {}
      i++;
    } else if (p[i] == ']') {
      for (i++; i < len; i++) {
        if (p[i] == 7) {
          i++;
          break;
        }
        if (p[i] == 0x1B && i + 1 < len && p[i + 1] == '\\') {
          i += 2;
          break;
        }
      }
    } else {
      /* skip one whole UTF-8 character */
      for (i++; i < len && ((unsigned char)p[i] & 0xC0) == 0x80; i++) {}
    }
  }
  return sb_to_string(vm, &b);
}

/* ---- control: write to stdout and flush ---- */

static void emit(VM *vm, const char *s, size_t n) {
  vm_write(vm, s, n);
  vm_flush(vm);
}

static void emit_move(VM *vm, Value row, Value col) {
  int64_t r = arg_int(vm, row), c = arg_int(vm, col);
  if (r < 1) r = 1;
  if (c < 1) c = 1;
  char buf[64];
  int n = snprintf(buf, sizeof buf, ESC "[%lld;%lldH", (long long)r, (long long)c);
  vm_write(vm, buf, (size_t)n);
}

static Value n_move_to(VM *vm, int argc, Value *argv) {
  emit_move(vm, argv[0], argv[1]);
  emit(vm, "", 0);
  return NIL_VAL;
}

static Value n_write_at(VM *vm, int argc, Value *argv) {
  Value s = text_arg(vm, argv[2]);
  emit_move(vm, argv[0], argv[1]);
  emit(vm, str_data(s), str_len(s));
  return NIL_VAL;
}

static Value n_set_title(VM *vm, int argc, Value *argv) {
  Value s = text_arg(vm, argv[0]);
  vm_write(vm, ESC "]0;", 4);
  vm_write(vm, str_data(s), str_len(s));
  emit(vm, "\x07", 1);
  return NIL_VAL;
}

static Value n_flush(VM *vm, int argc, Value *argv) {
  emit(vm, "", 0);
  return NIL_VAL;
}

#define CONTROL_FN(fname, seq)                            \
  static Value n_##fname(VM *vm, int argc, Value *argv) { \
    (void)argc, (void)argv;                               \
    emit(vm, seq, sizeof seq - 1);                        \
    return NIL_VAL;                                       \
  }
CONTROL_FN(clear, ESC "[2J" ESC "[H")
CONTROL_FN(clear_line, ESC "[2K")
CONTROL_FN(clear_below, ESC "[0J")
CONTROL_FN(cursor_home, ESC "[H")
CONTROL_FN(hide_cursor, ESC "[?25l")
CONTROL_FN(show_cursor, ESC "[?25h")
CONTROL_FN(save_cursor, ESC "7")
CONTROL_FN(restore_cursor, ESC "8")
CONTROL_FN(enter_alt_screen, ESC "[?1049h")
CONTROL_FN(leave_alt_screen, ESC "[?1049l")
CONTROL_FN(bell, "\x07")

static const NativeDef defs[] = {
    {"term/bold", n_bold, 1, 1},
    {"term/dim", n_dim, 1, 1},
    {"term/italic", n_italic, 1, 1},
    {"term/underline", n_underline, 1, 1},
    {"term/inverse", n_inverse, 1, 1},
    {"term/strikethrough", n_strikethrough, 1, 1},
    {"term/black", n_black, 1, 1},
    {"term/red", n_red, 1, 1},
    {"term/green", n_green, 1, 1},
    {"term/yellow", n_yellow, 1, 1},
    {"term/blue", n_blue, 1, 1},
    {"term/magenta", n_magenta, 1, 1},
    {"term/cyan", n_cyan, 1, 1},
    {"term/white", n_white, 1, 1},
    {"term/gray", n_gray, 1, 1},
    {"term/style", n_style, 1, VARIADIC},
    {"term/rgb", n_rgb, 4, 4},
    {"term/strip", n_strip, 1, 1},
    {"term/move-to", n_move_to, 2, 2},
    {"term/write-at", n_write_at, 3, 3},
    {"term/set-title", n_set_title, 1, 1},
    {"term/flush", n_flush, 0, 0},
    {"term/clear", n_clear, 0, 0},
    {"term/clear-line", n_clear_line, 0, 0},
    {"term/clear-below", n_clear_below, 0, 0},
    {"term/cursor-home", n_cursor_home, 0, 0},
    {"term/hide-cursor", n_hide_cursor, 0, 0},
    {"term/show-cursor", n_show_cursor, 0, 0},
    {"term/save-cursor", n_save_cursor, 0, 0},
    {"term/restore-cursor", n_restore_cursor, 0, 0},
    {"term/enter-alt-screen", n_enter_alt_screen, 0, 0},
    {"term/leave-alt-screen", n_leave_alt_screen, 0, 0},
    {"term/bell", n_bell, 0, 0},
    {NULL, NULL, 0, 0},
};

void lib_term_init(VM *vm) { env_register(vm, defs); }
