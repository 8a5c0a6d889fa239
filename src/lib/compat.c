/* compat.c - Tier C names that are cheap to provide (stdlib.md §21, §26, §28,
 * §31): the RP2040 PIO assembler, signal callbacks, raw terminal mode and key
 * reading, source checking and tidying, OpenTelemetry in its disabled state.
 * PIO instructions are sorted maps ({:op :set :dest :pins :value 1});
 * pio/assemble resolves labels and encodes 16-bit words (RP2040 datasheet
 * §3.4), little-endian in a bytevector.
 */
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "../reader.h"
#include "lib.h"

typedef struct {
  const char *name;
  int code;
} Code;

static const Code jmp_conds[] = {{"always", 0}, {"!x", 1}, {"x--", 2}, {"!y", 3}, {"y--", 4},
                                 {"x!=y", 5},   {"pin", 6}, {"!osre", 7}, {NULL, 0}};
static const Code set_dests[] = {{"pins", 0}, {"x", 1}, {"y", 2}, {"pindirs", 4}, {NULL, 0}};
static const Code in_srcs[] = {{"pins", 0}, {"x", 1}, {"y", 2}, {"null", 3}, {"isr", 6}, {"osr", 7}, {NULL, 0}};
static const Code out_dests[] = {{"pins", 0}, {"x", 1},  {"y", 2},   {"null", 3},
                                 {"pindirs", 4}, {"pc", 5}, {"isr", 6}, {"exec", 7}, {NULL, 0}};
static const Code mov_dests[] = {{"pins", 0}, {"x", 1}, {"y", 2}, {"exec", 4}, {"pc", 5}, {"isr", 6}, {"osr", 7}, {NULL, 0}};
static const Code mov_srcs[] = {{"pins", 0}, {"x", 1}, {"y", 2}, {"null", 3}, {"status", 5}, {"isr", 6}, {"osr", 7}, {NULL, 0}};
static const Code mov_ops[] = {{"none", 0}, {"invert", 1}, {"reverse", 2}, {NULL, 0}};
static const Code wait_srcs[] = {{"gpio", 0}, {"pin", 1}, {"irq", 2}, {NULL, 0}};
static const Code irq_modes[] = {{"set", 0}, {"wait", 1}, {"clear", 2}, {NULL, 0}};

/* The code of keyword v in table t, or -1. */
static int code_of(VM *vm, Value v, const Code *t) {
  if (!is_kw(v)) return -1;
  const char *s = sym_cstr(vm, v);
  for (; t->name; t++)
    if (!strcmp(t->name, s)) return t->code;
  return -1;
}

static int kw_code(VM *vm, const char *fn, Value v, const Code *t, const char *what) {
  int c = code_of(vm, v, t);
  if (c < 0) {
    Value s = print_to_string(vm, v, true);
    err_eval(vm, "%s: unknown %s %s", fn, what, str_data(s));
  }
  return c;
}

static int64_t int_in(VM *vm, const char *fn, Value v, int64_t lo, int64_t hi, const char *what) {
  if (!is_int(v)) err_type(vm, "int", v);
  int64_t n = int_of(v);
  if (n < lo || n > hi) err_eval(vm, "%s: %s %lld out of range %lld..%lld", fn, what, (long long)n, (long long)lo, (long long)hi);
  return n;
}

/* An instruction map from key/value pairs (keys given as C strings). */
static Value instr(VM *vm, int n, ...) {
  va_list ap;
  va_start(ap, n);
  Value m = map_empty(vm);
  for (int i = 0; i < n; i++) {
    const char *k = va_arg(ap, const char *);
    Value v = va_arg(ap, Value);
    m = map_assoc(vm, m, KW(vm, k), v);
  }
  va_end(ap);
  return m;
}

static Value n_nop(VM *vm, int argc, Value *argv) {
  return instr(vm, 3, "op", KW(vm, "mov"), "dest", KW(vm, "y"), "source", KW(vm, "y"));
}

static Value n_jmp(VM *vm, int argc, Value *argv) {
  Value cond = argc == 2 ? argv[0] : KW(vm, "always"), target = argv[argc - 1];
  kw_code(vm, "pio/jmp", cond, jmp_conds, "condition");
  if (!is_sym(target)) err_type(vm, "symbol", target);
  return instr(vm, 3, "op", KW(vm, "jmp"), "cond", cond, "target", target);
}

static Value n_wait(VM *vm, int argc, Value *argv) {
  if (!is_int(argv[0]) || (int_of(argv[0]) != 0 && int_of(argv[0]) != 1)) err_eval(vm, "pio/wait: polarity must be 0 or 1");
  kw_code(vm, "pio/wait", argv[1], wait_srcs, "source");
  int64_t idx = int_in(vm, "pio/wait", argv[2], 0, 31, "index");
  bool rel = argc == 4 && argv[3] == KW(vm, "rel");
  if (argc == 4 && !rel) err_eval(vm, "pio/wait: unexpected option");
  return instr(vm, 5, "op", KW(vm, "wait"), "polarity", argv[0], "source", argv[1], "index", small_int_val(idx),
               "rel", bool_val(rel));
}

static Value in_out(VM *vm, int argc, Value *argv, const char *fn, const char *op, const Code *t, const char *key) {
  kw_code(vm, fn, argv[0], t, !strcmp(key, "source") ? "source" : "destination");
  if (!is_int(argv[1])) err_type(vm, "int", argv[1]);
  if (int_of(argv[1]) < 1 || int_of(argv[1]) > 32) err_eval(vm, "%s: bit count %lld must be 1..32", fn, (long long)int_of(argv[1]));
  return instr(vm, 3, "op", KW(vm, op), key, argv[0], "bits", argv[1]);
}

static Value n_in(VM *vm, int argc, Value *argv) { return in_out(vm, argc, argv, "pio/in", "in", in_srcs, "source"); }
static Value n_out(VM *vm, int argc, Value *argv) { return in_out(vm, argc, argv, "pio/out", "out", out_dests, "dest"); }

static Value push_pull(VM *vm, int argc, Value *argv, const char *fn, const char *op, const char *ifkey) {
  bool block = true, cond = false;
  for (int i = 0; i < argc; i++) {
    if (argv[i] == KW(vm, ifkey)) cond = true;
    else if (argv[i] == KW(vm, "block")) block = true;
    else if (argv[i] == KW(vm, "no-block")) block = false;
    else err_eval(vm, "%s: unexpected option %s", fn, str_data(print_to_string(vm, argv[i], true)));
  }
  return instr(vm, 3, "op", KW(vm, op), "block", bool_val(block), ifkey, bool_val(cond));
}

static Value n_push(VM *vm, int argc, Value *argv) { return push_pull(vm, argc, argv, "pio/push", "push", "iffull"); }
static Value n_pull(VM *vm, int argc, Value *argv) { return push_pull(vm, argc, argv, "pio/pull", "pull", "ifempty"); }

/* a source written :!y means y inverted */
static int mov_source(VM *vm, Value src, bool *inverted) {
  const char *s = is_kw(src) ? sym_cstr(vm, src) : "";
  *inverted = s[0] == '!';
  Value plain = *inverted ? KW(vm, s + 1) : src;
  return kw_code(vm, "pio/mov", plain, mov_srcs, "source");
}

static Value n_mov(VM *vm, int argc, Value *argv) {
  kw_code(vm, "pio/mov", argv[0], mov_dests, "destination");
  bool inv;
  mov_source(vm, argv[1], &inv);
  Value op = argc == 3 ? argv[2] : KW(vm, inv ? "invert" : "none");
  if (code_of(vm, op, mov_ops) < 0) err_eval(vm, "pio/mov: unknown operation %s", str_data(print_to_string(vm, op, true)));
  return instr(vm, 4, "op", KW(vm, "mov"), "dest", argv[0], "source", argv[1], "mov-op", op);
}

static Value n_irq(VM *vm, int argc, Value *argv) {
  kw_code(vm, "pio/irq", argv[0], irq_modes, "mode");
  int64_t idx = int_in(vm, "pio/irq", argv[1], 0, 7, "index");
  bool rel = argc == 3 && argv[2] == KW(vm, "rel");
  if (argc == 3 && !rel) err_eval(vm, "pio/irq: unexpected option");
  return instr(vm, 4, "op", KW(vm, "irq"), "mode", argv[0], "index", small_int_val(idx), "rel", bool_val(rel));
}

static Value n_set(VM *vm, int argc, Value *argv) {
  kw_code(vm, "pio/set", argv[0], set_dests, "destination");
  int64_t v = int_in(vm, "pio/set", argv[1], 0, 31, "value");
  return instr(vm, 3, "op", KW(vm, "set"), "dest", argv[0], "value", small_int_val(v));
}

static Value with_field(VM *vm, const char *fn, Value n, Value ins, const char *key, int64_t hi) {
  int64_t v = int_in(vm, fn, n, 0, hi, key);
  if (!is_map(ins)) err_type(vm, "map", ins);
  return map_assoc(vm, ins, KW(vm, key), small_int_val(v));
}

static Value n_side(VM *vm, int argc, Value *argv) {
  return with_field(vm, "pio/side", argv[0], argv[1], "side-set", 31);
}

static Value n_delay(VM *vm, int argc, Value *argv) {
  return with_field(vm, "pio/delay", argv[0], argv[1], "delay", 31);
}

/* ---- the assembler ---- */

static Value field(VM *vm, Value m, const char *k) {
  Value v = NIL_VAL;
  map_get(m, KW(vm, k), &v);
  return v;
}

static int label_addr(VM *vm, Value labels, Value sym) {
  Value a;
  if (!map_get(labels, sym, &a)) err_eval(vm, "pio/assemble: undefined label %s", sym_cstr(vm, sym));
  return (int)int_of(a);
}

static unsigned encode(VM *vm, Value ins, Value labels, int sidebits) {
  Value op = field(vm, ins, "op");
  const char *o = is_kw(op) ? sym_cstr(vm, op) : "";
  unsigned w;
  if (!strcmp(o, "jmp"))
    w = 0u << 13 | (unsigned)code_of(vm, field(vm, ins, "cond"), jmp_conds) << 5 | (unsigned)label_addr(vm, labels, field(vm, ins, "target"));
  else if (!strcmp(o, "wait"))
    w = 1u << 13 | (unsigned)int_of(field(vm, ins, "polarity")) << 7 | (unsigned)code_of(vm, field(vm, ins, "source"), wait_srcs) << 5 |
        (field(vm, ins, "rel") == TRUE_VAL ? 0x10u : 0) | (unsigned)int_of(field(vm, ins, "index"));
  else if (!strcmp(o, "in"))
    w = 2u << 13 | (unsigned)code_of(vm, field(vm, ins, "source"), in_srcs) << 5 | ((unsigned)int_of(field(vm, ins, "bits")) & 31);
  else if (!strcmp(o, "out"))
    w = 3u << 13 | (unsigned)code_of(vm, field(vm, ins, "dest"), out_dests) << 5 | ((unsigned)int_of(field(vm, ins, "bits")) & 31);
  else if (!strcmp(o, "push") || !strcmp(o, "pull")) {
    bool pull = o[1] == 'u' && o[2] == 'l';
    w = 4u << 13 | (pull ? 0x80u : 0) | (field(vm, ins, pull ? "ifempty" : "iffull") == TRUE_VAL ? 0x40u : 0) |
        (field(vm, ins, "block") == TRUE_VAL ? 0x20u : 0);
  } else if (!strcmp(o, "mov")) {
    bool inv;
    int src = mov_source(vm, field(vm, ins, "source"), &inv);
    Value mop = field(vm, ins, "mov-op");
    int opc = mop == NIL_VAL ? (inv ? 1 : 0) : code_of(vm, mop, mov_ops);
    w = 5u << 13 | (unsigned)code_of(vm, field(vm, ins, "dest"), mov_dests) << 5 | (unsigned)opc << 3 | (unsigned)src;
  } else if (!strcmp(o, "irq")) {
    int mode = code_of(vm, field(vm, ins, "mode"), irq_modes);
    w = 6u << 13 | (mode == 2 ? 0x40u : 0) | (mode == 1 ? 0x20u : 0) | (field(vm, ins, "rel") == TRUE_VAL ? 0x10u : 0) |
        (unsigned)int_of(field(vm, ins, "index"));
  } else if (!strcmp(o, "set"))
    w = 7u << 13 | (unsigned)code_of(vm, field(vm, ins, "dest"), set_dests) << 5 | (unsigned)int_of(field(vm, ins, "value"));
  else
    err_eval(vm, "pio/assemble: not an instruction: %s", str_data(print_to_string(vm, ins, true)));
  Value d = field(vm, ins, "delay"), s = field(vm, ins, "side-set");
  int delaybits = 5 - sidebits;
  if (is_int(d) && int_of(d) >= (1 << delaybits)) err_eval(vm, "pio/assemble: delay %lld out of range", (long long)int_of(d));
  if (is_int(s) && (sidebits == 0 || int_of(s) >= (1 << sidebits)))
    err_eval(vm, "pio/assemble: side-set value %lld out of range for %d side-set bits", (long long)int_of(s), sidebits);
  unsigned ds = (is_int(d) ? (unsigned)int_of(d) : 0) | (is_int(s) ? (unsigned)int_of(s) << delaybits : 0);
  return w | ds << 8;
}

static Value n_assemble(VM *vm, int argc, Value *argv) {
  arg_seq(vm, argv[0], "pio/assemble");
  int sidebits = 0;
  if (argc > 1) {
    if (!is_map(argv[1])) err_type(vm, "map", argv[1]);
    Value sb = field(vm, argv[1], "side-set-bits");
    if (sb != NIL_VAL) sidebits = (int)int_in(vm, "pio/assemble", sb, 0, 5, "side-set-bits");
  }
  /* pass 1: labels, wrap points, instruction count */
  Value labels = map_empty(vm);
  vm_push_root(vm, labels);
  int n = 0, wrap_target = 0, wrap = -1;
  SeqIter it;
  seqiter_init(&it, argv[0]);
  Value x;
  while (seqiter_next(&it, &x)) {
    if (is_sym(x)) {
      if (map_get(labels, x, NULL)) err_eval(vm, "pio/assemble: duplicate label %s", sym_cstr(vm, x));
      labels = map_assoc(vm, labels, x, small_int_val(n));
    } else if (x == KW(vm, "wrap-target")) {
      wrap_target = n;
    } else if (x == KW(vm, "wrap")) {
      wrap = n - 1;
    } else if (is_map(x)) {
      n++;
    } else {
      err_eval(vm, "pio/assemble: expected an instruction, a label or :wrap/:wrap-target, got %s", str_data(print_to_string(vm, x, true)));
    }
  }
  if (n > 32) err_eval(vm, "pio/assemble: program of %d instructions does not fit in 32", n);
  if (wrap < 0) wrap = n - 1;
  /* pass 2: encode */
  Value bv = obj_bytevec(vm, NULL, (size_t)n * 2);
  Bytevec *b = (Bytevec *)as_obj(bv);
  int i = 0;
  seqiter_init(&it, argv[0]);
  while (seqiter_next(&it, &x)) {
    if (!is_map(x)) continue;
    unsigned w = encode(vm, x, labels, sidebits);
    b->data[2 * i] = (uint8_t)(w & 0xFF);
    b->data[2 * i + 1] = (uint8_t)(w >> 8);
    i++;
  }
  vm_pop_roots(vm, 1);
  return instr(vm, 5, "instructions", bv, "length", small_int_val(n), "wrap-target", small_int_val(wrap_target), "wrap",
               small_int_val(wrap < 0 ? 0 : wrap), "side-set-bits", small_int_val(sidebits));
}

/* ---- signals (§21): handlers only set flags; callbacks run in sys/check-signals ---- */

static volatile sig_atomic_t pending_signals[3];
static const int signal_numbers[3] = {SIGWINCH, SIGINT, SIGTERM};
static const char *const signal_names[3] = {"winch", "int", "term"};
#define SIGNAL_CELL " signal callbacks"

static void on_signal(int sig) {
  for (int i = 0; i < 3; i++)
    if (signal_numbers[i] == sig) pending_signals[i] = 1;
}

static Value n_on_signal(VM *vm, int argc, Value *argv) {
  int which = -1;
  for (int i = 0; i < 3; i++)
    if (is_kw(argv[0]) && !strcmp(sym_cstr(vm, argv[0]), signal_names[i])) which = i;
  if (which < 0) err_eval(vm, "sys/on-signal: unknown signal %s (expected :winch, :int or :term)", str_data(print_to_string(vm, argv[0], true)));
  if (!is_procedure(argv[1])) err_type(vm, "function", argv[1]);
  Value m = env_get(vm, SIGNAL_CELL);
  if (m == UNBOUND_VAL) m = map_empty(vm);
  env_define(vm, SIGNAL_CELL, map_assoc(vm, m, argv[0], argv[1]));
  signal(signal_numbers[which], on_signal);
  return NIL_VAL;
}

static Value n_check_signals(VM *vm, int argc, Value *argv) {
  for (int i = 0; i < 3; i++) {
    if (!pending_signals[i]) continue;
    pending_signals[i] = 0;
    Value m = env_get(vm, SIGNAL_CELL), f;
    if (m != UNBOUND_VAL && map_get(m, KW(vm, signal_names[i]), &f)) vm_call(vm, f, 0, NULL);
  }
  return NIL_VAL;
}

/* ---- raw terminal mode and keys (§28): nil when stdin is not a terminal ---- */

static struct termios saved_termios;
static bool raw_active;

static Value n_tty_raw(VM *vm, int argc, Value *argv) {
  if (!isatty(0) || tcgetattr(0, &saved_termios) != 0) return NIL_VAL;
  struct termios raw = saved_termios;
  cfmakeraw(&raw);
  if (tcsetattr(0, TCSANOW, &raw) != 0) return NIL_VAL;
  raw_active = true;
  return small_int_val(1);
}

static Value n_tty_restore(VM *vm, int argc, Value *argv) {
  if (raw_active) tcsetattr(0, TCSANOW, &saved_termios);
  raw_active = false;
  return NIL_VAL;
}

static Value key_map(VM *vm, int c) {
  Value m = map_empty(vm);
  if (c >= 32 && c < 127) {
    char ch[2] = {(char)c, 0};
    m = map_assoc(vm, m, KW(vm, "kind"), KW(vm, "char"));
    return map_assoc(vm, m, KW(vm, "char"), str_from_c(vm, ch));
  }
  const char *name = c == '\r' || c == '\n' ? "enter" : c == 27 ? "escape" : c == 127 ? "backspace" : c == '\t' ? "tab" : "unknown";
  m = map_assoc(vm, m, KW(vm, "kind"), KW(vm, "key"));
  return map_assoc(vm, m, KW(vm, "name"), KW(vm, name));
}

static Value read_key(VM *vm, int timeout_ms) {
  if (!isatty(0)) return NIL_VAL;
  struct pollfd p = {0, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) <= 0) return NIL_VAL;
  unsigned char c;
  if (read(0, &c, 1) != 1) return NIL_VAL;
  return key_map(vm, c);
}

static Value n_read_key(VM *vm, int argc, Value *argv) {
  return read_key(vm, -1);
}

static Value n_read_key_timeout(VM *vm, int argc, Value *argv) {
  int64_t ms = arg_int(vm, argv[0]);
  return read_key(vm, ms < 0 ? 0 : ms > 86400000 ? 86400000 : (int)ms);
}

/* ---- source tools (§26) ---- */

static Value n_format_form(VM *vm, int argc, Value *argv) {
  StrBuf b;
  sb_init_vm(&b, vm);
  print_pretty(vm, &b, argv[0], 80);
  return sb_to_string(vm, &b);
}

typedef struct {
  Value src;
} CheckJob;

static void check_read(VM *vm, void *ud) {
  CheckJob *j = ud;
  reader_read_all(vm, str_data(j->src), str_len(j->src));
}

static Value n_check_string(VM *vm, int argc, Value *argv) {
  CheckJob j = {arg_string(vm, argv[0])};
  uint32_t roots = vm_roots_mark(vm);
  int failed = vm_protect(vm, check_read, &j);
  vm_roots_reset(vm, roots);
  Value r = map_assoc(vm, map_empty(vm), KW(vm, "ok"), bool_val(!failed));
  if (!failed) return map_assoc(vm, r, KW(vm, "diagnostics"), EMPTY_VAL);
  vm_push_root(vm, r);
  Value line = small_int_val(1), col = small_int_val(1), msg = NIL_VAL;
  anymap_get(vm_error(vm), KW(vm, "line"), &line);
  anymap_get(vm_error(vm), KW(vm, "col"), &col);
  anymap_get(vm_error(vm), KW(vm, "message"), &msg);
  Value span = map_assoc(vm, map_assoc(vm, map_empty(vm), KW(vm, "line"), line), KW(vm, "col"), col);
  Value d = map_assoc(vm, map_empty(vm), KW(vm, "code"), str_from_c(vm, "syntax"));
  d = map_assoc(vm, d, KW(vm, "message"), msg);
  d = map_assoc(vm, d, KW(vm, "span"), span);
  r = map_assoc(vm, r, KW(vm, "diagnostics"), list_1(vm, d));
  vm_pop_roots(vm, 1);
  return r;
}

/* ---- markup and redaction (§31) ---- */

/* The text of an HTML fragment: tags dropped, the common entities decoded,
 * runs of whitespace collapsed to one space, trimmed. */
static Value n_html_text(VM *vm, int argc, Value *argv) {
  Value h = arg_string(vm, argv[0]);
  const char *p = str_data(h), *end = p + str_len(h);
  static const char *const ents[][2] = {{"&amp;", "&"}, {"&lt;", "<"},  {"&gt;", ">"},
                                        {"&quot;", "\""}, {"&#39;", "'"}, {"&nbsp;", " "}};
  StrBuf b;
  sb_init_vm(&b, vm);
  bool space = false;
  while (p < end) {
    if (*p == '<') {
      const char *q = memchr(p, '>', (size_t)(end - p));
      p = q ? q + 1 : end;
      continue;
    }
    const char *add = NULL;
    size_t adv = 1;
    if (*p == '&')
      for (size_t i = 0; i < sizeof ents / sizeof ents[0]; i++) {
        size_t n = strlen(ents[i][0]);
        if ((size_t)(end - p) >= n && !memcmp(p, ents[i][0], n)) add = ents[i][1], adv = n;
      }
    char c = add ? add[0] : *p;
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = b.len > 0;
    } else {
      if (space) sb_addc(&b, ' ');
      space = false;
      if (add) sb_adds(&b, add);
      else sb_addc(&b, *p);
    }
    p += adv;
  }
  return sb_to_string(vm, &b);
}

static int cmp_span(const void *a, const void *b) {
  const int64_t *x = a, *y = b;
  return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Replace the (character) spans {:start :end} by «redacted»; in start order, a
 * span that overlaps one already replaced is skipped. */
static Value n_redact_spans(VM *vm, int argc, Value *argv) {
  Value s = arg_string(vm, argv[0]);
  arg_seq(vm, argv[1], "redact/spans");
  int64_t nch = (int64_t)as_string(s)->nchars, n = 0, cap = 8;
  int64_t *sp = malloc((size_t)cap * 2 * sizeof(int64_t));
  SeqIter it;
  seqiter_init(&it, argv[1]);
  Value m;
  while (seqiter_next(&it, &m)) {
    Value a = NIL_VAL, e = NIL_VAL;
    if (is_anymap(m)) anymap_get(m, KW(vm, "start"), &a), anymap_get(m, KW(vm, "end"), &e);
    if (!is_int(a) || !is_int(e)) {
      free(sp);
      err_eval(vm, "redact/spans: expected maps with integer :start and :end");
    }
    if (n == cap) sp = realloc(sp, (size_t)(cap *= 2) * 2 * sizeof(int64_t));
    int64_t lo = int_of(a) < 0 ? 0 : int_of(a) > nch ? nch : int_of(a);
    int64_t hi = int_of(e) < lo ? lo : int_of(e) > nch ? nch : int_of(e);
    sp[2 * n] = lo, sp[2 * n + 1] = hi, n++;
  }
  qsort(sp, (size_t)n, 2 * sizeof(int64_t), cmp_span);
  StrBuf b;
  sb_init_vm(&b, vm);
  int64_t at = 0;
  for (int64_t i = 0; i < n;) {
    int64_t lo = sp[2 * i], hi = sp[2 * i + 1];
    for (i++; i < n && sp[2 * i] < hi; i++) { /* a span overlapping a kept one is dropped (as the reference does) */
    }
    if (hi <= lo) continue;
    size_t from = str_byte_offset(s, (size_t)at), to = str_byte_offset(s, (size_t)lo);
    sb_add(&b, str_data(s) + from, to - from);
    sb_adds(&b, "\xc2\xabredacted\xc2\xbb");
    at = hi;
  }
  size_t from = str_byte_offset(s, (size_t)at);
  sb_add(&b, str_data(s) + from, str_len(s) - from);
  free(sp);
  return sb_to_string(vm, &b);
}

/* ---- OpenTelemetry, disabled: spans just run their thunk ---- */

static Value n_otel_span(VM *vm, int argc, Value *argv) {
  return vm_call(vm, argv[argc - 1], 0, NULL);
}

static Value n_otel_noop(VM *vm, int argc, Value *argv) {
  return NIL_VAL;
}

static const NativeDef compat_defs[] = {
    {"sys/on-signal", n_on_signal, 2, 2,
     "(sys/on-signal sig fn)\nRegisters the zero-argument function fn for the signal sig (:winch, :int or :term); it "
     "runs at the next (sys/check-signals) after the signal arrives. Returns nil."},
    {"sys/check-signals", n_check_signals, 0, 0,
     "(sys/check-signals)\nCalls the functions registered with sys/on-signal for each signal that arrived since the "
     "last check; returns nil."},
    {"io/tty-raw!", n_tty_raw, 0, 0,
     "(io/tty-raw!)\nPuts the terminal on stdin in raw mode (no echo, no line buffering) and returns a token for "
     "io/tty-restore!, or nil when stdin is not a terminal."},
    {"io/tty-restore!", n_tty_restore, 0, 1,
     "(io/tty-restore! [token])\nRestores the terminal mode saved by io/tty-raw!; returns nil."},
    {"io/read-key", n_read_key, 0, 0,
     "(io/read-key)\nWaits for a key on stdin and returns it as a map: {:kind :char :char \"a\"} or {:kind :key :name"
     " :enter} (also :escape, :backspace, :tab); nil at end of input."},
    {"io/read-key-timeout", n_read_key_timeout, 1, 1,
     "(io/read-key-timeout ms)\nLike io/read-key, but returns nil when no key arrives within ms milliseconds."},
    {"format/form", n_format_form, 1, 1,
     "(format/form x)\nReturns the pretty-printed text of the datum x, 80 columns wide."},
    {"sema/check-string", n_check_string, 1, 1,
     "(sema/check-string s)\nReads the source text s without running it and returns {:ok #t :diagnostics ()}, or {:ok"
     " #f :diagnostics ({:code \"syntax\" :message ... :span {:line :col}})} for the first syntax error."},
    {"html/text", n_html_text, 1, 1,
     "(html/text html)\nReturns the text of an HTML fragment: tags dropped, the common entities decoded, runs of "
     "whitespace collapsed to one space, trimmed."},
    {"redact/spans", n_redact_spans, 2, 2,
     "(redact/spans s spans)\nReturns s with each character span {:start :end} of the list spans replaced by "
     "«redacted»; a span overlapping one already replaced is skipped."},
    {"otel/span", n_otel_span, 2, 3,
     "(otel/span name [attrs] thunk)\nCalls thunk and returns its value: OpenTelemetry is not built in, so no span is"
     " recorded."},
    {"otel/event", n_otel_noop, 1, 2,
     "(otel/event name [attrs])\nDoes nothing (OpenTelemetry is not built in); returns nil."},
    {"otel/enabled?", n_otel_noop, 0, 0,
     "(otel/enabled?)\nReturns nil: OpenTelemetry is not built in."},
    {"pio/nop", n_nop, 0, 0,
     "(pio/nop)\nReturns the RP2040 PIO instruction map of a no-op (mov y, y) for pio/assemble."},
    {"pio/jmp", n_jmp, 1, 2,
     "(pio/jmp [cond] label)\nReturns a PIO jmp to the symbol label, under cond: :always (default), :!x, :x--, :!y, "
     ":y--, :x!=y, :pin or :!osre."},
    {"pio/wait", n_wait, 3, 4,
     "(pio/wait polarity source index [:rel])\nReturns a PIO wait for polarity 0 or 1 on source :gpio, :pin or :irq "
     "number index (0-31); :rel makes an irq index relative."},
    {"pio/in", n_in, 2, 2,
     "(pio/in source bits)\nReturns a PIO in shifting bits bits from source (:pins :x :y :null :isr :osr) into the "
     "ISR."},
    {"pio/out", n_out, 2, 2,
     "(pio/out dest bits)\nReturns a PIO out shifting bits bits from the OSR to dest (:pins :x :y :null :pindirs :pc "
     ":isr :exec)."},
    {"pio/push", n_push, 0, 2,
     "(pio/push [:iffull] [:block | :no-block])\nReturns a PIO push of the ISR to the RX FIFO: blocking unless "
     ":no-block, only when the ISR is full with :iffull."},
    {"pio/pull", n_pull, 0, 2,
     "(pio/pull [:ifempty] [:block | :no-block])\nReturns a PIO pull from the TX FIFO into the OSR: blocking unless "
     ":no-block, only when the OSR is empty with :ifempty."},
    {"pio/mov", n_mov, 2, 3,
     "(pio/mov dest source [op])\nReturns a PIO mov from source (:pins :x :y :null :status :isr :osr, or :!src "
     "inverted) to dest (:pins :x :y :exec :pc :isr :osr), with op :none, :invert or :reverse."},
    {"pio/irq", n_irq, 2, 3,
     "(pio/irq mode index [:rel])\nReturns a PIO irq that does mode (:set, :wait or :clear) to IRQ flag index (0-7); "
     ":rel makes it relative to the state machine."},
    {"pio/set", n_set, 2, 2,
     "(pio/set dest value)\nReturns a PIO set of dest (:pins :x :y :pindirs) to value (0-31)."},
    {"pio/side", n_side, 2, 2,
     "(pio/side n instr)\nReturns the instruction map instr with side-set value n (0-31; checked against "
     ":side-set-bits when assembled)."},
    {"pio/delay", n_delay, 2, 2,
     "(pio/delay n instr)\nReturns the instruction map instr with a delay of n cycles (0-31; fewer bits remain with "
     "side-set)."},
    {"pio/assemble", n_assemble, 1, 2,
     "(pio/assemble program [opts])\nAssembles program, a list of instruction maps, label symbols and the markers "
     ":wrap-target and :wrap (at most 32 instructions), and returns {:instructions bytevector :length :wrap-target "
     ":wrap :side-set-bits}, the words 16-bit little-endian; opts may give :side-set-bits (0-5)."},
    {NULL, NULL, 0, 0},
};

void lib_compat_init(VM *vm) { env_register(vm, compat_defs); }
