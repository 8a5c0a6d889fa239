/* doc.c - docstrings: what `,doc NAME`, `sema doc` and the generated
 * reference (docs/reference.md) show for a name.
 *
 * Each kind of name has one source (docs/design.md, "Documentation in the binary"):
 *  - builtins: the doc field of their module's NativeDef row (Native.doc);
 *  - special forms: the table beside SPECIAL_FORMS in analyze.c;
 *  - functions and macros a program writes: the docstring of their lambda,
 *    a string before the other body forms (Proto.doc, or the evaluator's
 *    FnInfo.doc); without one, the signature comes from the parameter list
 *    as written;
 *  - the prelude's macros and the other values bound at start-up (pi,
 *    *stdin*): the docstring of their global cell (env_define_doc,
 *    env_set_doc), which applies while the cell still holds that value.
 * A docstring is "SIGNATURE\nDESCRIPTION"; a Sema docstring whose first line
 * does not start with "(NAME" is all description.
 */
#include <stdlib.h>
#include <string.h>
#include "../compiler.h"
#include "doc.h"

/* Split "SIG\nDESC" (C text) into two strings. */
static void split_doc(VM *vm, const char *doc, DocEntry *e) {
  const char *nl = strchr(doc, '\n');
  if (!nl) {
    e->sig = str_from_c(vm, doc);
    return;
  }
  e->sig = str_new(vm, doc, (size_t)(nl - doc));
  e->desc = str_from_c(vm, nl + 1);
}

/* "(name p1 p2 rest...)" from a parameter list as written (a list with
 * ". rest", or a vector). */
static Value signature_of(VM *vm, const char *name, Value params) {
  StrBuf b;
  sb_init(&b);
  sb_addc(&b, '(');
  sb_adds(&b, name);
  Value dot = SYM(vm, ".");
  if (is_vector(params)) params = list_from(vm, vec_items(params), vec_len(params));
  for (Value l = params; is_cons(l); l = cdr(l)) {
    if (car(l) == dot && is_cons(cdr(l))) {
      sb_addc(&b, ' ');
      print_value(vm, &b, car(cdr(l)), true);
      sb_adds(&b, "...");
      break;
    }
    sb_addc(&b, ' ');
    print_value(vm, &b, car(l), true);
  }
  if (is_sym(params)) { /* (lambda args ...) */
    sb_addc(&b, ' ');
    sb_adds(&b, sym_cstr(vm, params));
    sb_adds(&b, "...");
  }
  sb_addc(&b, ')');
  return sb_to_string(vm, &b);
}

static bool starts_with_call(const char *s, size_t len, const char *name) {
  size_t n = strlen(name);
  return len > n + 1 && s[0] == '(' && memcmp(s + 1, name, n) == 0 && (s[n + 1] == ' ' || s[n + 1] == ')');
}

/* A function written in Sema: the signature from its docstring's first line
 * when that is a call of NAME, else from the parameter list. */
static void sema_fn_doc(VM *vm, const char *name, Value fn, DocEntry *e) {
  Value fname, params, doc;
  if (!compile_fn_doc(fn, &fname, &params, &doc)) return;
  if (is_string(doc)) {
    const char *s = str_data(doc), *nl = memchr(s, '\n', str_len(doc));
    if (nl && starts_with_call(s, (size_t)(nl - s), name)) {
      e->sig = str_new(vm, s, (size_t)(nl - s));
      e->desc = str_new(vm, nl + 1, str_len(doc) - (size_t)(nl + 1 - s));
      return;
    }
    e->desc = doc;
  }
  e->sig = signature_of(vm, name, params);
}

/* The signature of a builtin looked up under another name: every call of the
 * canonical name in it becomes a call of NAME. */
static Value rename_sig(VM *vm, Value sig, const char *canon, const char *name) {
  const char *s = str_data(sig), *end = s + str_len(sig);
  size_t n = strlen(canon);
  StrBuf b;
  sb_init(&b);
  while (s < end) {
    if (starts_with_call(s, (size_t)(end - s), canon)) {
      sb_addc(&b, '(');
      sb_adds(&b, name);
      s += n + 1;
    } else {
      sb_addc(&b, *s++);
    }
  }
  return sb_to_string(vm, &b);
}

bool doc_lookup(VM *vm, Value sym, DocEntry *e) {
  const char *name = sym_cstr(vm, sym);
  e->kind = NULL;
  e->sig = e->desc = e->alias_of = NIL_VAL;
  e->value = env_get(vm, name);
  int sf = analyze_special_index(vm, sym);
  if (sf >= 0) {
    e->kind = "special form";
    split_doc(vm, analyze_special_doc((size_t)sf), e);
    return true;
  }
  Value v = e->value;
  if (v == UNBOUND_VAL) return false;
  if (is_objtype(v, OBJ_MACRO)) {
    Value fn = ((Macro *)as_obj(v))->fn;
    e->kind = "macro";
    if (is_native(fn) && !(as_obj(fn)->flags & NATIVE_INTERP) && as_native(fn)->doc)
      split_doc(vm, as_native(fn)->doc, e); /* a transformer written in C (with-stream) */
    else if (env_doc(vm, sym))
      split_doc(vm, env_doc(vm, sym), e); /* the prelude's */
    else
      sema_fn_doc(vm, name, fn, e);
  } else if (is_native(v) && !(as_obj(v)->flags & NATIVE_INTERP)) {
    Native *n = as_native(v);
    e->kind = name[0] == '%' ? "internal helper" : "builtin";
    if (is_sym(n->name) && n->name != sym) e->alias_of = n->name;
    if (n->doc) split_doc(vm, n->doc, e);
    if (is_string(e->sig) && is_sym(e->alias_of)) e->sig = rename_sig(vm, e->sig, sym_cstr(vm, n->name), name);
  } else if (is_procedure(v)) {
    e->kind = "procedure";
    sema_fn_doc(vm, name, v, e);
  } else if (is_objtype(v, OBJ_MULTI)) {
    e->kind = "multimethod";
  } else {
    const char *doc = env_doc(vm, sym);
    e->kind = doc ? "constant" : "variable";
    if (doc) split_doc(vm, doc, e);
  }
  if (!is_string(e->sig)) {
    StrBuf b;
    sb_init(&b);
    bool callable = strcmp(e->kind, "constant") != 0 && strcmp(e->kind, "variable") != 0;
    sb_addf(&b, callable ? "(%s arg...)" : "%s", name);
    e->sig = sb_to_string(vm, &b);
  }
  return true;
}

/* ---- text ---- */

void doc_wrap(StrBuf *b, const char *s, size_t len, int indent, int width) {
  const char *end = s + len;
  while (s < end) {
    const char *eol = memchr(s, '\n', (size_t)(end - s));
    if (!eol) eol = end;
    /* one source line: break at the last space that fits */
    do {
      const char *cut = eol;
      int cols = 0;
      const char *last_space = NULL;
      for (const char *p = s; p < eol; p++) {
        if (((unsigned char)*p & 0xC0) != 0x80) cols++;
        if (*p == ' ') last_space = p;
        if (cols > width - indent && last_space) {
          cut = last_space;
          break;
        }
      }
      for (int i = 0; i < indent; i++) sb_addc(b, ' ');
      sb_add(b, s, (size_t)(cut - s));
      sb_addc(b, '\n');
      s = cut < eol ? cut + 1 : eol;
    } while (s < eol);
    s = eol + 1;
  }
}

/* Restricted Damerau-Levenshtein distance (a transposition counts as one
 * edit, so "pritnln" is 1 from "println"); stops early above LIMIT. */
static int edit_distance(const char *a, const char *b, int limit) {
  int n = (int)strlen(a), m = (int)strlen(b);
  if (n > 40 || m > 40 || abs(n - m) > limit) return limit + 1;
  int d[41][41];
  for (int i = 0; i <= n; i++) d[i][0] = i;
  for (int j = 0; j <= m; j++) d[0][j] = j;
  for (int i = 1; i <= n; i++) {
    int row_min = limit + 1;
    for (int j = 1; j <= m; j++) {
      int c = a[i - 1] == b[j - 1] ? 0 : 1;
      int v = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
      if (d[i - 1][j - 1] + c < v) v = d[i - 1][j - 1] + c;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
        v = d[i - 2][j - 2] + 1;
      d[i][j] = v;
      if (v < row_min) row_min = v;
    }
    if (row_min > limit) return limit + 1;
  }
  return d[n][m];
}

#define MAX_SUGGEST 4

typedef struct {
  Value names[MAX_SUGGEST];
  int dist[MAX_SUGGEST];
  int n;
} Close;

static void consider(VM *vm, Close *c, const char *query, Value sym, int limit) {
  const char *name = sym_cstr(vm, sym);
  if (name[0] == ' ' || name[0] == '%' || strcmp(name, query) == 0) return;
  int d = edit_distance(query, name, limit);
  /* "trim" finds string/trim: the part after the module prefix matches */
  const char *slash = strrchr(name, '/');
  if (d > limit && slash && slash != name && slash[1] && strcmp(slash + 1, query) == 0) d = limit;
  if (d > limit) return;
  for (int i = 0; i < c->n; i++)
    if (c->names[i] == sym) return;
  int at = c->n;
  while (at > 0 && (c->dist[at - 1] > d || (c->dist[at - 1] == d && strcmp(sym_cstr(vm, c->names[at - 1]), name) > 0)))
    at--;
  if (at >= MAX_SUGGEST) return;
  int last = c->n < MAX_SUGGEST ? c->n : MAX_SUGGEST - 1;
  for (int i = last; i > at; i--) c->names[i] = c->names[i - 1], c->dist[i] = c->dist[i - 1];
  c->names[at] = sym;
  c->dist[at] = d;
  if (c->n < MAX_SUGGEST) c->n++;
}

Value doc_suggest(VM *vm, const char *query) {
  size_t len = strlen(query);
  int limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
  Close c = {.n = 0};
  Value name, value;
  for (uint32_t i = 0; env_global_at(vm, i, &name, &value); i++)
    if (value != UNBOUND_VAL) consider(vm, &c, query, name, limit);
  for (size_t i = 0; i < analyze_special_count(); i++) consider(vm, &c, query, SYM(vm, analyze_special_name(i)), limit);
  return list_from(vm, c.names, (size_t)c.n);
}

Value doc_format(VM *vm, Value sym) {
  const char *name = sym_cstr(vm, sym);
  StrBuf b;
  sb_init(&b);
  DocEntry e;
  if (!doc_lookup(vm, sym, &e)) {
    sb_addf(&b, "%s is not bound", name);
    Value close = doc_suggest(vm, name);
    for (Value l = close; is_cons(l); l = cdr(l))
      sb_addf(&b, "%s%s", l == close ? "; did you mean " : cdr(l) == EMPTY_VAL ? " or " : ", ", sym_cstr(vm, car(l)));
    sb_adds(&b, is_cons(close) ? "?\n" : "\n");
    return sb_to_string(vm, &b);
  }
  sb_add(&b, str_data(e.sig), str_len(e.sig));
  sb_adds(&b, "\n  ");
  sb_adds(&b, e.kind);
  if (strcmp(e.kind, "special form") == 0 && e.value != UNBOUND_VAL) sb_adds(&b, ", also bound as a procedure");
  if (is_sym(e.alias_of)) sb_addf(&b, ", another name for %s", sym_cstr(vm, e.alias_of));
  if (strcmp(e.kind, "variable") == 0 || strcmp(e.kind, "constant") == 0) {
    StrBuf v;
    sb_init(&v);
    print_value(vm, &v, e.value, true);
    sb_addf(&b, ": %s ", sym_cstr(vm, val_type_keyword(vm, e.value)));
    if (v.len > 60) {
      size_t cut = 57;
      while (cut > 0 && ((unsigned char)v.data[cut] & 0xC0) == 0x80) cut--;
      sb_add(&b, v.data, cut);
      sb_adds(&b, "...");
    } else {
      sb_add(&b, v.data, v.len);
    }
    sb_free(&v);
  }
  if (!is_string(e.desc)) {
    sb_adds(&b, " (no docstring)\n");
    return sb_to_string(vm, &b);
  }
  sb_addc(&b, '\n');
  doc_wrap(&b, str_data(e.desc), str_len(e.desc), 2, 78);
  return sb_to_string(vm, &b);
}

/* ---- the builtin ---- */

static Value n_doc(VM *vm, int argc, Value *argv) {
  Value v = argv[0];
  if (is_string(v)) v = SYM(vm, str_data(v));
  if (!is_sym(v)) err_type(vm, "symbol or string", v);
  return doc_format(vm, v);
}

static const NativeDef defs[] = {
    {"%doc", n_doc, 1, 1,
     "(%doc name)\nReturns the text that ,doc prints for name (a symbol or a string): the signature, the kind of "
     "value and the docstring, or that the name is not bound."},
    {NULL, NULL, 0, 0, NULL},
};

void lib_doc_init(VM *vm) { env_register(vm, defs); }
