/* error.c - building and raising error values (language.md §10).
 *
 * An error is a sorted map {:type :message :stack-trace ...}; `try` binds it
 * as is.  The stack trace is captured when the error is raised.
 */
#include <stdlib.h>
#include <utf8proc.h>
#include "map.h"
#include "runtime.h"
#include "state.h"
#include "vm.h"

#define MAX_TRACE 64

/* Raising: a longjmp to the innermost handler (vm.c pushes them: a `try`, a
 * run level, a protected call), which restores the state it saved. */
void err_throw(VM *vm, Value err) {
  vm->error = err;
  uint32_t n = vm->nhandlers;
  /* exit and a stop from the host's hook pass every try (catch_pc set) */
  if (vm->unwinding)
    while (n > 0 && vm->handlers[n - 1].catch_pc) n--;
  if (n == 0) {
    fprintf(stderr, "sema: uncaught error outside any protected call\n");
    exit(70);
  }
  longjmp(*vm->handlers[n - 1].jb, 1);
}

void err_rethrow(VM *vm) { err_throw(vm, vm->error); }

/* Natives that recurse in C (printing, equality, macro expansion, callbacks)
 * check the C stack against the limit vm_new derived from RLIMIT_STACK. */
void err_check_c_stack(VM *vm) {
  char here;
  if (UNLIKELY(&here < vm->c_stack_limit)) err_eval(vm, "stack overflow: maximum call depth exceeded");
}

static Value frame_map(VM *vm, const char *name, uint32_t pos, Value file) {
  Value m = map_empty(vm);
  m = map_assoc(vm, m, KW(vm, "name"), str_from_c(vm, name));
  if (pos) {
    m = map_assoc(vm, m, KW(vm, "line"), small_int_val(POS_LINE(pos)));
    m = map_assoc(vm, m, KW(vm, "col"), small_int_val(POS_COL(pos)));
  }
  if (pos && POS_IS_EVAL(pos)) /* code read from a string at run time */
    m = map_assoc(vm, m, KW(vm, "file"), str_from_c(vm, "<eval>"));
  else if (is_string(file))
    m = map_assoc(vm, m, KW(vm, "file"), file);
  return m;
}

static Value stack_trace(VM *vm) {
  ListBuilder lb;
  list_start(&lb);
  int n = 0;
  if (vm->compile_pos) {
    list_add(vm, &lb, frame_map(vm, "<lambda>", vm->compile_pos, vm->cur_file));
    vm->compile_pos = 0;
    n++;
  }
  for (uint32_t i = vm->hooks.ext_frame ? vm->ext_depth : 0; i-- > 0 && n < MAX_TRACE; n++) {
    const char *name;
    uint32_t pos;
    Value file;
    vm->hooks.ext_frame(vm, i, &name, &pos, &file);
    list_add(vm, &lb, frame_map(vm, name, pos, file));
  }
  for (CallInfo *ci = vm->ci; ci > vm->ci_base && n < MAX_TRACE; ci--, n++) {
    if (!ci->cl) continue;
    Proto *p = ci->cl->proto;
    uint32_t pos = 0;
    if (ci->pc > p->code && ci->pc <= p->code + p->ncode) pos = p->pos[ci->pc - p->code - 1];
    list_add(vm, &lb, frame_map(vm, is_sym(p->name) ? sym_cstr(vm, p->name) : "<lambda>", pos, p->file));
  }
  return lb.head;
}

Value err_make(VM *vm, const char *kind, Value message) {
  Value m = map_empty(vm);
  m = map_assoc(vm, m, KW(vm, "type"), KW(vm, kind));
  m = map_assoc(vm, m, KW(vm, "message"), message);
  m = map_assoc(vm, m, KW(vm, "stack-trace"), stack_trace(vm));
  vm->error_hint = vm->pending_hint;
  vm->pending_hint = NIL_VAL;
  return m;
}

static Value vfmt(VM *vm, const char *fmt, va_list ap) {
  char buf[1024];
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  if (n < 0) n = 0;
  if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
  /* messages may quote user data cut at an arbitrary byte: keep them valid UTF-8 */
  size_t bad;
  while (n > 0 && !utf8_valid(buf, (size_t)n, &bad)) n = (int)bad;
  return str_new(vm, buf, (size_t)n);
}

void err_hint(VM *vm, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vm->pending_hint = vfmt(vm, fmt, ap);
  va_end(ap);
}

void err_eval(VM *vm, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  Value msg = vfmt(vm, fmt, ap);
  va_end(ap);
  err_throw(vm, err_make(vm, "eval", msg));
}

void err_io(VM *vm, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  Value msg = vfmt(vm, fmt, ap);
  va_end(ap);
  err_throw(vm, err_make(vm, "io", msg));
}

static NORETURN void type_error_with(VM *vm, const char *expected, const char *got) {
  char buf[512];
  snprintf(buf, sizeof buf, "expected %s, got %s", expected, got);
  Value m = err_make(vm, "type-error", str_from_c(vm, buf));
  m = map_assoc(vm, m, KW(vm, "expected"), str_from_c(vm, expected));
  m = map_assoc(vm, m, KW(vm, "got"), str_from_c(vm, got));
  err_throw(vm, m);
}

void err_type(VM *vm, const char *expected, Value got) { type_error_with(vm, expected, val_type_name(got)); }

void err_type_in(VM *vm, const char *expected, Value got, const char *fname) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s in %s", val_type_name(got), fname);
  type_error_with(vm, expected, buf);
}

void err_type2(VM *vm, const char *expected, Value a, Value b) {
  char buf[128];
  snprintf(buf, sizeof buf, "%s and %s", val_type_name(a), val_type_name(b));
  type_error_with(vm, expected, buf);
}

void err_arity(VM *vm, const char *name, const char *expects, int got) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s expects %s args, got %d", name, expects, got);
  err_throw(vm, err_make(vm, "arity", str_from_c(vm, buf)));
}

void err_unbound(VM *vm, Value sym) {
  String *n = sym_name(vm, sym_id(sym));
  StrBuf b;
  sb_init_vm(&b, vm);
  sb_adds(&b, "Unbound variable: ");
  sb_add(&b, n->data, n->len);
  Value m = err_make(vm, "unbound", sb_to_string(vm, &b));
  m = map_assoc(vm, m, KW(vm, "name"), str_new(vm, n->data, n->len));
  err_throw(vm, m);
}

void err_user(VM *vm, Value thrown) {
  Value m = err_make(vm, "user", print_to_string(vm, thrown, true));
  m = map_assoc(vm, m, KW(vm, "value"), thrown);
  err_throw(vm, m);
}

void err_reader_in(VM *vm, uint32_t line, uint32_t col, bool in_string, const char *msg) {
  char buf[640];
  snprintf(buf, sizeof buf, "%s at %u:%u", msg, line, col);
  Value m = err_make(vm, "reader", str_from_c(vm, buf));
  m = map_assoc(vm, m, KW(vm, "line"), small_int_val(line));
  m = map_assoc(vm, m, KW(vm, "col"), small_int_val(col));
  /* the file being read: an imported module's syntax error is not the
   * importer's; text given to `read` is none of the files */
  if (in_string)
    m = map_assoc(vm, m, KW(vm, "file"), str_from_c(vm, "<eval>"));
  else if (is_string(vm->cur_file))
    m = map_assoc(vm, m, KW(vm, "file"), vm->cur_file);
  err_throw(vm, m);
}

void err_reader(VM *vm, uint32_t line, uint32_t col, const char *msg) { err_reader_in(vm, line, col, false, msg); }

void err_nonneg(VM *vm, const char *fname, Value got) {
  err_hint(vm, "pass 0 or a positive integer");
  StrBuf b;
  sb_init_vm(&b, vm);
  print_value(vm, &b, got, true);
  Value s = sb_to_string(vm, &b);
  err_eval(vm, "%s: expected a non-negative integer, got %s", fname, str_data(s));
}

/* ---- invisible characters in messages ----
 * A message that quotes a NUL, a byte-order mark or another character with
 * no glyph would look empty or cut short; such characters are shown as
 * U+XXXX instead.  Invisible: controls, format characters (U+FEFF, the
 * zero-width ones, bidi controls), line and paragraph separators, and
 * spaces other than U+0020. */
bool err_is_invisible(uint32_t c) {
  if (c == ' ') return false;
  if (c < 0x20 || c == 0x7F) return true;
  if (c < 0x80) return false;
  switch (utf8proc_category((utf8proc_int32_t)c)) {
  case UTF8PROC_CATEGORY_CC:
  case UTF8PROC_CATEGORY_CF:
  case UTF8PROC_CATEGORY_ZS:
  case UTF8PROC_CATEGORY_ZL:
  case UTF8PROC_CATEGORY_ZP:
  case UTF8PROC_CATEGORY_CN: return true;
  default: return false;
  }
}

void err_describe_char(uint32_t c, char *buf, size_t size) {
  if (err_is_invisible(c)) {
    snprintf(buf, size, "U+%04X", (unsigned)c);
  } else {
    char tmp[5];
    tmp[utf8_encode(c, tmp)] = 0;
    snprintf(buf, size, "'%s'", tmp);
  }
}

Value err_escaped(VM *vm, const char *s, size_t n) {
  StrBuf b;
  sb_init_vm(&b, vm);
  size_t i = 0;
  while (i < n) {
    size_t adv = 1;
    uint32_t c = (unsigned char)s[i];
    if (c >= 0x80) c = utf8_decode(s + i, &adv);
    if (err_is_invisible(c))
      sb_addf(&b, "<U+%04X>", (unsigned)c);
    else
      sb_add(&b, s + i, adv);
    i += adv;
  }
  return sb_to_string(vm, &b);
}

/* The display form of an error (without the "Error: " prefix). */
Value err_display(VM *vm, Value err) {
  Value type = NIL_VAL, msg = NIL_VAL;
  if (is_map(err)) {
    map_get(err, KW(vm, "type"), &type);
    map_get(err, KW(vm, "message"), &msg);
  }
  StrBuf b;
  sb_init_vm(&b, vm);
  const char *t = is_kw(type) ? sym_cstr(vm, type) : "";
  if (strcmp(t, "reader") == 0) {
    Value line = NIL_VAL, col = NIL_VAL;
    map_get(err, KW(vm, "line"), &line);
    map_get(err, KW(vm, "col"), &col);
    /* :message is "MSG at L:C"; the display puts the position first */
    const char *m = is_string(msg) ? str_data(msg) : "";
    size_t len = strlen(m);
    const char *at = NULL;
    for (const char *p = m; (p = strstr(p, " at ")) != NULL; p++) at = p;
    sb_addf(&b, "Reader error at %lld:%lld: ", (long long)(is_int(line) ? int_of(line) : 0),
            (long long)(is_int(col) ? int_of(col) : 0));
    sb_add(&b, m, at ? (size_t)(at - m) : len);
  } else {
    const char *prefix = strcmp(t, "eval") == 0         ? "Eval error: "
                         : strcmp(t, "type-error") == 0 ? "Type error: "
                         : strcmp(t, "arity") == 0      ? "Arity error: "
                         : strcmp(t, "user") == 0       ? "User exception: "
                         : strcmp(t, "io") == 0         ? "IO error: "
                         : strcmp(t, "llm") == 0        ? "LLM error: "
                                                        : "";
    sb_adds(&b, prefix);
    if (is_string(msg))
      sb_add(&b, str_data(msg), str_len(msg));
    else
      print_value(vm, &b, err, true);
  }
  return sb_to_string(vm, &b);
}
