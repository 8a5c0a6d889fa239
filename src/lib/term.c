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
    {"term/bold", n_bold, 1, 1,
     "(term/bold s)\nReturns s wrapped in the ANSI escape sequences for bold text (ESC[1m ... ESC[0m)."},
    {"term/dim", n_dim, 1, 1,
     "(term/dim s)\nReturns s wrapped in the ANSI escape sequences for dim text (ESC[2m ... ESC[0m)."},
    {"term/italic", n_italic, 1, 1,
     "(term/italic s)\nReturns s wrapped in the ANSI escape sequences for italic text (ESC[3m ... ESC[0m)."},
    {"term/underline", n_underline, 1, 1,
     "(term/underline s)\nReturns s wrapped in the ANSI escape sequences for underlined text (ESC[4m ... ESC[0m)."},
    {"term/inverse", n_inverse, 1, 1,
     "(term/inverse s)\nReturns s wrapped in the ANSI escape sequences for inverse video (ESC[7m ... ESC[0m)."},
    {"term/strikethrough", n_strikethrough, 1, 1,
     "(term/strikethrough s)\nReturns s wrapped in the ANSI escape sequences for struck-through text (ESC[9m ... "
     "ESC[0m)."},
    {"term/black", n_black, 1, 1,
     "(term/black s)\nReturns s in black: wrapped in ESC[30m ... ESC[0m."},
    {"term/red", n_red, 1, 1,
     "(term/red s)\nReturns s in red: wrapped in ESC[31m ... ESC[0m."},
    {"term/green", n_green, 1, 1,
     "(term/green s)\nReturns s in green: wrapped in ESC[32m ... ESC[0m."},
    {"term/yellow", n_yellow, 1, 1,
     "(term/yellow s)\nReturns s in yellow: wrapped in ESC[33m ... ESC[0m."},
    {"term/blue", n_blue, 1, 1,
     "(term/blue s)\nReturns s in blue: wrapped in ESC[34m ... ESC[0m."},
    {"term/magenta", n_magenta, 1, 1,
     "(term/magenta s)\nReturns s in magenta: wrapped in ESC[35m ... ESC[0m."},
    {"term/cyan", n_cyan, 1, 1,
     "(term/cyan s)\nReturns s in cyan: wrapped in ESC[36m ... ESC[0m."},
    {"term/white", n_white, 1, 1,
     "(term/white s)\nReturns s in white: wrapped in ESC[37m ... ESC[0m."},
    {"term/gray", n_gray, 1, 1,
     "(term/gray s)\nReturns s in gray: wrapped in ESC[90m ... ESC[0m."},
    {"term/style", n_style, 1, VARIADIC,
     "(term/style s kw...)\nReturns s wrapped in one escape sequence combining the style keywords in order (:bold "
     ":dim :italic :underline :inverse :strikethrough and the colours :black ... :gray); an unknown keyword is an "
     "error."},
    {"term/rgb", n_rgb, 4, 4,
     "(term/rgb s r g b)\nReturns s in the 24-bit foreground colour r g b (ESC[38;2;R;G;Bm ... ESC[0m)."},
    {"term/strip", n_strip, 1, 1,
     "(term/strip s)\nReturns s without its terminal escape sequences (CSI, OSC and two-character ones): (term/strip "
     "(term/bold \"hi\")) is \"hi\"."},
    {"term/move-to", n_move_to, 2, 2,
     "(term/move-to row col)\nMoves the terminal cursor to row and col, counting from 1 (writes ESC[row;colH); "
     "returns nil."},
    {"term/write-at", n_write_at, 3, 3,
     "(term/write-at row col s)\nMoves the cursor to row and col, then writes s; returns nil."},
    {"term/set-title", n_set_title, 1, 1,
     "(term/set-title s)\nSets the terminal window's title to s (ESC]0;s BEL); returns nil."},
    {"term/flush", n_flush, 0, 0,
     "(term/flush)\nFlushes the standard output; returns nil."},
    {"term/clear", n_clear, 0, 0,
     "(term/clear)\nClears the screen and moves the cursor home (ESC[2J ESC[H); returns nil."},
    {"term/clear-line", n_clear_line, 0, 0,
     "(term/clear-line)\nClears the cursor's line (ESC[2K); returns nil."},
    {"term/clear-below", n_clear_below, 0, 0,
     "(term/clear-below)\nClears the screen from the cursor down (ESC[0J); returns nil."},
    {"term/cursor-home", n_cursor_home, 0, 0,
     "(term/cursor-home)\nMoves the cursor to the top left corner (ESC[H); returns nil."},
    {"term/hide-cursor", n_hide_cursor, 0, 0,
     "(term/hide-cursor)\nHides the terminal cursor (ESC[?25l); returns nil."},
    {"term/show-cursor", n_show_cursor, 0, 0,
     "(term/show-cursor)\nShows the terminal cursor again (ESC[?25h); returns nil."},
    {"term/save-cursor", n_save_cursor, 0, 0,
     "(term/save-cursor)\nSaves the cursor position (ESC 7); returns nil."},
    {"term/restore-cursor", n_restore_cursor, 0, 0,
     "(term/restore-cursor)\nMoves the cursor back to the position saved by term/save-cursor (ESC 8); returns nil."},
    {"term/enter-alt-screen", n_enter_alt_screen, 0, 0,
     "(term/enter-alt-screen)\nSwitches the terminal to the alternate screen (ESC[?1049h); returns nil."},
    {"term/leave-alt-screen", n_leave_alt_screen, 0, 0,
     "(term/leave-alt-screen)\nSwitches the terminal back to the main screen (ESC[?1049l); returns nil."},
    {"term/bell", n_bell, 0, 0,
     "(term/bell)\nRings the terminal bell (writes BEL); returns nil."},
    {NULL, NULL, 0, 0},
};

void lib_term_init(VM *vm) { env_register(vm, defs); }
