/* printer.c - printed (write) and display forms, and the pretty printer
 * (language.md §4, conformance/PRINTING.md). */
#include <stdlib.h>
#include "map.h"
#include "numfmt.h"
#include "runtime.h"
#include "reader.h" /* READER_MAX_DEPTH only */

void print_double(StrBuf *b, double d, bool force_point) {
  char buf[NUMFMT_BUFSIZE];
  size_t n = numfmt_double(buf, sizeof buf, d, force_point);
  sb_add(b, buf, n);
}

static void print_string(StrBuf *b, Value v) {
  const char *s = str_data(v);
  uint32_t n = str_len(v);
  sb_addc(b, '"');
  uint32_t run = 0;
  for (uint32_t i = 0; i < n; i++) {
    const char *esc = NULL;
    switch (s[i]) {
    case '"': esc = "\\\""; break;
    case '\\': esc = "\\\\"; break;
    case '\n': esc = "\\n"; break;
    case '\t': esc = "\\t"; break;
    case '\r': esc = "\\r"; break;
    default: continue;
    }
    sb_add(b, s + run, i - run);
    sb_adds(b, esc);
    run = i + 1;
  }
  sb_add(b, s + run, n - run);
  sb_addc(b, '"');
}

static void print_char(StrBuf *b, uint32_t c) {
  sb_adds(b, "#\\");
  switch (c) {
  case ' ': sb_adds(b, "space"); return;
  case '\n': sb_adds(b, "newline"); return;
  case '\t': sb_adds(b, "tab"); return;
  case '\r': sb_adds(b, "return"); return;
  case 0: sb_adds(b, "nul"); return;
  default: sb_add_utf8(b, c);
  }
}

static void print_map(VM *vm, StrBuf *b, Value m) {
  size_t n;
  Value *e = map_sorted_entries(vm, m, &n);
  sb_addc(b, '{');
  for (size_t i = 0; i < n; i++) {
    if (i) sb_addc(b, ' ');
    print_value(vm, b, e[2 * i], true);
    sb_addc(b, ' ');
    print_value(vm, b, e[2 * i + 1], true);
  }
  sb_addc(b, '}');
  map_entries_free(vm, e);
}

static void print_obj(VM *vm, StrBuf *b, Value v) {
  Obj *o = as_obj(v);
  switch (o->type) {
  case OBJ_STRING: print_string(b, v); return;
  case OBJ_BIGINT: sb_addf(b, "%lld", (long long)((BigInt *)o)->i); return;
  case OBJ_CONS:
    sb_addc(b, '(');
    for (Value l = v; is_cons(l); l = cdr(l)) {
      if (l != v) sb_addc(b, ' ');
      print_value(vm, b, car(l), true);
    }
    sb_addc(b, ')');
    return;
  case OBJ_VECTOR:
    sb_addc(b, '[');
    for (uint32_t i = 0; i < o->aux; i++) {
      if (i) sb_addc(b, ' ');
      print_value(vm, b, vec_items(v)[i], true);
    }
    sb_addc(b, ']');
    return;
  case OBJ_MAP:
  case OBJ_HASHMAP: print_map(vm, b, v); return;
  case OBJ_CLOSURE: {
    Proto *p = ((Closure *)o)->proto;
    if (is_sym(p->name))
      sb_addf(b, "<native-fn %s>", sym_cstr(vm, p->name));
    else
      sb_adds(b, "<native-fn <vm-closure>>");
    return;
  }
  case OBJ_NATIVE: sb_addf(b, "<native-fn %s>", sym_cstr(vm, ((Native *)o)->name)); return;
  case OBJ_MACRO: sb_addf(b, "<macro %s>", sym_cstr(vm, ((Macro *)o)->name)); return;
  case OBJ_MULTI: sb_addf(b, "<multimethod %s>", sym_cstr(vm, ((Multi *)o)->name)); return;
  case OBJ_RECORD: {
    Record *r = (Record *)o;
    sb_addf(b, "#<record %s", sym_cstr(vm, r->tag));
    for (uint32_t i = 0; i < o->aux; i++) {
      sb_addc(b, ' ');
      print_value(vm, b, r->fields[i], true);
    }
    sb_addc(b, '>');
    return;
  }
  case OBJ_PROMISE: sb_adds(b, (o->flags & PROMISE_FORCED) ? "<promise (forced)>" : "<promise>"); return;
  case OBJ_BYTEVEC: {
    Bytevec *bv = (Bytevec *)o;
    sb_adds(b, "#u8(");
    for (uint32_t i = 0; i < bv->len; i++) sb_addf(b, i ? " %u" : "%u", bv->data[i]);
    sb_addc(b, ')');
    return;
  }
  case OBJ_FOREIGN:
    if (((Foreign *)o)->cls->print)
      ((Foreign *)o)->cls->print(vm, b, (Foreign *)o);
    else
      sb_addf(b, "<%s>", ((Foreign *)o)->cls->name);
    return;
  case OBJ_PROTO: sb_adds(b, "<prototype>"); return;
  case OBJ_BOX: sb_adds(b, "<box>"); return;
  default: sb_adds(b, "<object>"); return;
  }
}

void print_value(VM *vm, StrBuf *b, Value v, bool write) {
  if (is_double(v)) {
    print_double(b, as_double(v), true);
    return;
  }
  switch (VAL_TAG(v)) {
  case TAG_SPECIAL:
    /* () opens a paren too: it counts against the reader's depth */
    if (write && v == EMPTY_VAL && b->depth >= READER_MAX_DEPTH)
      err_eval(vm, "write: data nested too deeply to be read back (limit %d)", READER_MAX_DEPTH);
    sb_adds(b, v == NIL_VAL ? "nil" : v == TRUE_VAL ? "#t" : v == FALSE_VAL ? "#f" : v == EMPTY_VAL ? "()" : "#<undefined>");
    return;
  case TAG_INT: sb_addf(b, "%lld", (long long)small_int_of(v)); return;
  case TAG_CHAR: print_char(b, char_of(v)); return;
  case TAG_SYM: {
    String *s = sym_name(vm, sym_id(v));
    sb_add(b, s->data, s->len);
    return;
  }
  case TAG_KW: {
    String *s = sym_name(vm, sym_id(v));
    sb_addc(b, ':');
    sb_add(b, s->data, s->len);
    return;
  }
  default: break;
  }
  if (!write && is_string(v)) {
    sb_add(b, str_data(v), str_len(v));
    return;
  }
  err_check_c_stack(vm);
  /* What write prints, read must read back (design.md "Printer and reader
   * nesting"): the reader stops at READER_MAX_DEPTH open aggregates, so write
   * refuses deeper data with a clear error instead of printing text that
   * cannot be read.  display has no such promise and is bounded only by the
   * C stack check above.  The buffer is freed by unwinding on the error. */
  if (write && (is_cons(v) || is_vector(v) || is_anymap(v)) && ++b->depth > READER_MAX_DEPTH)
    err_eval(vm, "write: data nested too deeply to be read back (limit %d)", READER_MAX_DEPTH);
  print_obj(vm, b, v);
  if (write && (is_cons(v) || is_vector(v) || is_anymap(v))) b->depth--;
}

Value print_to_string(VM *vm, Value v, bool write) {
  if (!write && is_string(v)) return v;
  StrBuf b;
  sb_init_vm(&b, vm);
  print_value(vm, &b, v, write);
  return sb_to_string(vm, &b);
}

/* ---- pretty printer (§4.3) ---- */

static void pp(VM *vm, StrBuf *b, Value v, int indent, int width);

static size_t printed_len(VM *vm, Value v, StrBuf *tmp) {
  tmp->len = 0;
  print_value(vm, tmp, v, true);
  return tmp->len;
}

static void newline_indent(StrBuf *b, int n) {
  sb_addc(b, '\n');
  for (int i = 0; i < n; i++) sb_addc(b, ' ');
}

static void pp(VM *vm, StrBuf *b, Value v, int indent, int width) {
  StrBuf tmp;
  sb_init_vm(&tmp, vm);
  size_t len = printed_len(vm, v, &tmp);
  if ((long)len <= (long)width - indent || !(is_cons(v) || is_vector(v) || is_anymap(v))) {
    sb_add(b, tmp.data, tmp.len);
    sb_free(&tmp);
    return;
  }
  err_check_c_stack(vm);
  if (is_anymap(v)) {
    size_t n;
    Value *e = map_sorted_entries(vm, v, &n);
    sb_addc(b, '{');
    for (size_t i = 0; i < n; i++) {
      if (i) newline_indent(b, indent + 1);
      size_t klen = printed_len(vm, e[2 * i], &tmp);
      sb_add(b, tmp.data, tmp.len);
      Value val = e[2 * i + 1];
      size_t vlen = printed_len(vm, val, &tmp);
      if ((long)(indent + 1 + klen + 1 + vlen) <= width) {
        sb_addc(b, ' ');
        sb_add(b, tmp.data, tmp.len);
      } else if (is_cons(val) || is_vector(val) || is_anymap(val)) {
        newline_indent(b, indent + 3);
        pp(vm, b, val, indent + 3, width);
      } else {
        sb_addc(b, ' ');
        sb_add(b, tmp.data, tmp.len);
      }
    }
    sb_addc(b, '}');
    map_entries_free(vm, e);
  } else {
    bool vec = is_vector(v);
    sb_addc(b, vec ? '[' : '(');
    uint32_t i = 0;
    if (vec) {
      for (; i < vec_len(v); i++) {
        if (i) newline_indent(b, indent + 1);
        pp(vm, b, vec_items(v)[i], indent + 1, width);
      }
    } else {
      for (Value l = v; is_cons(l); l = cdr(l), i++) {
        if (i) newline_indent(b, indent + 1);
        pp(vm, b, car(l), indent + 1, width);
      }
    }
    sb_addc(b, vec ? ']' : ')');
  }
  sb_free(&tmp);
}

void print_pretty(VM *vm, StrBuf *b, Value v, int width) { pp(vm, b, v, 0, width); }
