/* fmt.c - `sema fmt`, the source formatter (docs/fmt.md; the layout rules
 * are ../shared/fmt/RULES.md).
 *
 * Pipeline:
 *   1. Parse the text into a concrete syntax tree that keeps what the reader
 *      throws away: comments, line breaks between tokens, and the exact text
 *      of every literal.  Delimiters, quote prefixes and comments are scanned
 *      here; every atom is scanned by the project's own reader (reader_next
 *      started at the atom), so token boundaries and atom errors are exactly
 *      the reader's.
 *   2. Read the whole input with read_all as well: input the reader refuses
 *      (odd map literals, misplaced dots, ...) is refused here too.
 *   3. Lay the tree out.  Every decision looks only at the semantic (non
 *      comment, non line break) children; a form goes on one line when it has
 *      no comment or line break inside, is not forced open by its kind and
 *      fits the width, otherwise it gets the multi-line layout of its family.
 *   4. Read the result back and compare it with step 2: formatting must never
 *      change the program.
 *
 * Invariants of the layout:
 *   - Nothing but an atom's or comment's own text is written before a line
 *     break, so no line gets trailing blanks (and text inside a multi-line
 *     string is never touched).
 *   - A comment is always followed by a line break before anything else, so
 *     a closing delimiter never ends up inside a comment.
 *   - Layout decisions that depend on whether a child "comes out on one line"
 *     are answered by a probe: the same layout code run on an output that
 *     records only the column and stops at the first line break.  A probe of
 *     a form costs its first line, so the layout stays near-linear where
 *     trying and undoing whole renderings would be exponential in the depth.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>
#include "../boot.h"
#include "../compiler.h"
#include "../map.h"
#include "../reader.h"
#include "../runtime.h"
#include "cli.h"
#include "fmt.h"

#define TOO_WIDE ((size_t)1 << 40)
#define MAX_DEPTH READER_MAX_DEPTH /* nested groups, as the reader allows */
#define MAX_PREFIX_DEPTH 1024      /* quote prefixes applied to one datum */

static NORETURN void fmt_oom(void) {
  fputs("sema fmt: out of memory\n", stderr);
  exit(70);
}

void fmt_default_options(FmtOptions *o) {
  o->width = 80;
  o->indent = 2;
  o->align = false;
}

/* ================================================================ arena
 * All nodes of one formatting run; freed at once, also after a reader error
 * has longjmp'd out of the parser. */

typedef struct FBlock {
  struct FBlock *next;
  size_t used, cap;
  _Alignas(16) char data[];
} FBlock;

typedef struct {
  FBlock *head;
} FArena;

static void *fa_alloc(FArena *a, size_t n) {
  n = (n + 15) & ~(size_t)15;
  if (!a->head || a->head->cap - a->head->used < n) {
    size_t cap = n > 65536 ? n : 65536;
    FBlock *b = malloc(sizeof *b + cap);
    if (!b) fmt_oom();
    b->next = a->head;
    b->used = 0;
    b->cap = cap;
    a->head = b;
  }
  void *p = a->head->data + a->head->used;
  a->head->used += n;
  return p;
}

static void fa_free(FArena *a) {
  for (FBlock *b = a->head, *n; b; b = n) {
    n = b->next;
    free(b);
  }
  a->head = NULL;
}

/* ================================================================ tree */

enum { N_ATOM, N_COMMENT, N_NL, N_PREFIX, N_BARE, N_GROUP };
/* N_BARE: a quote prefix followed by a line break or a comment.  Its datum
 * is the next semantic sibling; the layout treats the prefix as a one-token
 * atom (which keeps "'" at the end of its line, as the reference does). */
enum { G_LIST, G_VEC, G_MAP, G_LAMBDA, G_BYTES };

#define F_COMMENT 1u /* a comment somewhere inside */
#define F_NEWLINE 2u /* a line break between tokens somewhere inside */
#define F_MLSTR 4u   /* a literal containing a raw line break somewhere inside */
#define F_SYMBOL 8u  /* the atom reads as a symbol */
#define F_INNER (F_COMMENT | F_NEWLINE | F_MLSTR)

typedef struct Node {
  uint8_t kind, group;
  uint16_t flags;
  uint32_t len;       /* text length */
  const char *text;   /* atom, comment and prefix text */
  struct Node **kids; /* group: all children, trivia included; prefix: kids[0] is the datum */
  uint32_t nkids, nsem;
  struct Node **sem;  /* group: the semantic children */
  uint32_t *semix;    /* index in kids of each semantic child */
  uint32_t sbfc;      /* semantic children before the first direct comment child, UINT32_MAX if none */
  uint32_t line, col;
  size_t flat; /* bytes on one line (a raw line break in a literal counts as one byte) */
} Node;

static const char *const g_open[] = {"(", "[", "{", "#(", "#u8("};
static const char *const g_close[] = {")", "]", "}", ")", ")"};
static size_t g_openlen(const Node *n) { return strlen(g_open[n->group]); }

static bool is_semantic(const Node *n) { return n->kind != N_COMMENT && n->kind != N_NL; }
static bool is_group(const Node *n, int g) { return n->kind == N_GROUP && n->group == g; }
static bool is_listlike(const Node *n) { return is_group(n, G_LIST) || is_group(n, G_VEC); }
static size_t measure(const Node *n) { return (n->flags & F_MLSTR) ? TOO_WIDE : n->flat; }
/* A bare prefix must end its line: its datum is whatever comes next. */
static bool breaks_after(const Node *n) { return n->kind == N_BARE; }
static bool sym_is(const Node *n, const char *s) {
  return n->kind == N_ATOM && (n->flags & F_SYMBOL) && n->len == strlen(s) && memcmp(n->text, s, n->len) == 0;
}

/* ================================================================ parser */

typedef struct {
  VM *vm;
  const char *src;
  size_t len, i;
  uint32_t line, col;
  int depth, qdepth;
  FArena *ar;
  FmtError *err;
} Parser;

typedef struct {
  Node **v;
  uint32_t n, cap;
} NVec;

static void nv_push(Parser *p, NVec *v, Node *x) {
  if (v->n == v->cap) {
    if (v->cap >= UINT32_MAX / 2) fmt_oom();
    uint32_t cap = v->cap ? v->cap * 2 : 8;
    Node **nv = fa_alloc(p->ar, cap * sizeof *nv);
    if (v->n) memcpy(nv, v->v, v->n * sizeof *nv);
    v->v = nv;
    v->cap = cap;
  }
  v->v[v->n++] = x;
}

static Node *new_node(Parser *p, int kind) {
  Node *n = fa_alloc(p->ar, sizeof *n);
  memset(n, 0, sizeof *n);
  n->kind = (uint8_t)kind;
  n->line = p->line;
  n->col = p->col;
  n->sbfc = UINT32_MAX;
  return n;
}

static bool p_fail(Parser *p, uint32_t line, uint32_t col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static bool p_fail(Parser *p, uint32_t line, uint32_t col, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
  va_end(ap);
  p->err->line = line;
  p->err->col = col;
  return false;
}

/* Columns count code points, as the reader's do (the input is valid UTF-8). */
static void p_adv(Parser *p, size_t n) {
  for (size_t end = p->i + n; p->i < end; p->i++) {
    unsigned char c = (unsigned char)p->src[p->i];
    if (c == '\n') {
      p->line++;
      p->col = 1;
    } else if ((c & 0xC0) != 0x80)
      p->col++;
  }
}

static int p_peek(const Parser *p, size_t k) { return p->i + k < p->len ? (unsigned char)p->src[p->i + k] : -1; }
static bool is_blank(int c) { return c == ' ' || c == '\t' || c == '\r'; }
static bool is_closer(int c) { return c == ')' || c == ']' || c == '}'; }

/* The reader's symbol classes (language.md §2.4): the dot token is a "."
 * that no symbol character continues. */
static bool sym_cont_at(const char *s, size_t len, size_t i) {
  if (i >= len) return false;
  unsigned char c = (unsigned char)s[i];
  if (c < 0x80) return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c && strchr("+-*/!?<>=_&%^~.#", c));
  size_t adv;
  uint32_t cp = utf8_decode(s + i, &adv);
  utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT ||
         cat == UTF8PROC_CATEGORY_LM || cat == UTF8PROC_CATEGORY_LO || cat == UTF8PROC_CATEGORY_NL;
}

static bool parse_item(Parser *p, NVec *out);

static const char *closer_name(int c) { return c == ')' ? "`)`" : c == ']' ? "`]`" : "`}`"; }

/* Children up to the closer `closer` (0: end of input); the closer is not consumed. */
static bool parse_items(Parser *p, NVec *out, int closer, const Node *opener) {
  for (;;) {
    while (is_blank(p_peek(p, 0))) p_adv(p, 1);
    int c = p_peek(p, 0);
    if (c < 0) {
      if (!closer) return true;
      return p_fail(p, opener->line, opener->col, "unclosed delimiter: this `%s` has no matching `%c`",
                    g_open[opener->group], closer);
    }
    if (c == '\n') {
      nv_push(p, out, new_node(p, N_NL));
      p_adv(p, 1);
      continue;
    }
    if (c == ';') {
      Node *n = new_node(p, N_COMMENT);
      size_t s = p->i;
      while (p->i < p->len && p->src[p->i] != '\n') p_adv(p, 1);
      size_t e = p->i;
      while (e > s && (p->src[e - 1] == ' ' || p->src[e - 1] == '\t')) e--;
      n->text = p->src + s;
      n->len = (uint32_t)(e - s);
      n->flat = n->len;
      n->flags = F_COMMENT;
      nv_push(p, out, n);
      continue;
    }
    if (is_closer(c)) {
      if (c == closer) return true;
      if (opener)
        return p_fail(p, p->line, p->col, "unexpected closing delimiter %s: the `%s` at %u:%u is closed by `%c`",
                      closer_name(c), g_open[opener->group], opener->line, opener->col, closer);
      return p_fail(p, p->line, p->col, "unexpected closing delimiter %s: nothing is open here", closer_name(c));
    }
    if (!parse_item(p, out)) return false;
  }
}

static void finish_group(Parser *p, Node *g, NVec *kids) {
  g->kids = kids->v;
  g->nkids = kids->n;
  uint32_t nsem = 0;
  for (uint32_t k = 0; k < kids->n; k++) nsem += is_semantic(kids->v[k]);
  g->nsem = nsem;
  g->sem = nsem ? fa_alloc(p->ar, nsem * sizeof *g->sem) : NULL;
  g->semix = nsem ? fa_alloc(p->ar, nsem * sizeof *g->semix) : NULL;
  size_t flat = g_openlen(g) + 1;
  uint32_t s = 0;
  for (uint32_t k = 0; k < kids->n; k++) {
    Node *x = kids->v[k];
    if (x->kind == N_NL) {
      g->flags |= F_NEWLINE;
      continue;
    }
    if (x->kind == N_COMMENT) {
      g->flags |= F_COMMENT;
      if (g->sbfc == UINT32_MAX) g->sbfc = s;
      continue;
    }
    g->flags |= x->flags & F_INNER;
    flat += x->flat + (s > 0);
    g->sem[s] = x;
    g->semix[s++] = k;
  }
  g->flat = flat;
}

static bool parse_group(Parser *p, NVec *out, int group, size_t openlen, int closer) {
  Node *g = new_node(p, N_GROUP);
  g->group = (uint8_t)group;
  if (++p->depth > MAX_DEPTH)
    return p_fail(p, g->line, g->col, "input nested too deeply (limit %d)", MAX_DEPTH);
  p_adv(p, openlen);
  NVec kids = {0};
  if (!parse_items(p, &kids, closer, g)) return false;
  p_adv(p, 1);
  p->depth--;
  finish_group(p, g, &kids);
  nv_push(p, out, g);
  return true;
}

/* After a prefix and the trivia that follows it: is there a datum? */
static bool check_datum_follows(Parser *p, const Node *prefix) {
  size_t j = p->i;
  uint32_t line = p->line, col = p->col;
  for (;;) {
    if (j >= p->len)
      return p_fail(p, prefix->line, prefix->col, "prefix token at end of input: `%.*s` needs an expression after it",
                    (int)prefix->len, prefix->text);
    unsigned char c = (unsigned char)p->src[j];
    if (c == ';') {
      while (j < p->len && p->src[j] != '\n') j++;
      continue;
    }
    if (c == '\n') {
      j++, line++, col = 1;
      continue;
    }
    if (is_blank(c)) {
      j++, col++;
      continue;
    }
    if (is_closer(c))
      return p_fail(p, line, col, "unexpected closing delimiter %s: `%.*s` at %u:%u needs an expression before it",
                    closer_name(c), (int)prefix->len, prefix->text, prefix->line, prefix->col);
    return true;
  }
}

static bool parse_prefix(Parser *p, NVec *out) {
  Node *n = new_node(p, N_PREFIX);
  size_t plen = p_peek(p, 0) == ',' && p_peek(p, 1) == '@' ? 2 : 1;
  n->text = p->src + p->i;
  n->len = (uint32_t)plen;
  if (++p->qdepth > MAX_PREFIX_DEPTH)
    return p_fail(p, n->line, n->col, "quote prefixes nested too deeply (limit %d)", MAX_PREFIX_DEPTH);
  p_adv(p, plen);
  while (is_blank(p_peek(p, 0))) p_adv(p, 1);
  int c = p_peek(p, 0);
  if (c < 0 || c == '\n' || c == ';' || is_closer(c)) {
    if (!check_datum_follows(p, n)) return false;
    n->kind = N_BARE;
    n->flags = F_NEWLINE;
    n->flat = plen;
    nv_push(p, out, n);
    p->qdepth--;
    return true;
  }
  NVec one = {0};
  if (!parse_item(p, &one)) return false;
  Node *t = one.v[0];
  if (t->kind == N_BARE) {
    /* '' followed by a line break: one bare prefix "''" (same reading) */
    char *s = fa_alloc(p->ar, plen + t->len);
    memcpy(s, n->text, plen);
    memcpy(s + plen, t->text, t->len);
    t->text = s;
    t->len += (uint32_t)plen;
    t->flat = t->len;
    t->line = n->line;
    t->col = n->col;
    nv_push(p, out, t);
  } else {
    n->kids = fa_alloc(p->ar, sizeof *n->kids);
    n->kids[0] = t;
    n->nkids = 1;
    n->flags = t->flags & F_INNER;
    n->flat = plen + t->flat;
    nv_push(p, out, n);
  }
  p->qdepth--;
  return true;
}

static const char *char_text(Parser *p, uint32_t cp, uint32_t *len) {
  static const struct {
    uint32_t cp;
    const char *name;
  } names[] = {{' ', "#\\space"}, {'\n', "#\\newline"}, {'\t', "#\\tab"}, {'\r', "#\\return"}, {0, "#\\nul"}};
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
    if (names[k].cp == cp) {
      *len = (uint32_t)strlen(names[k].name);
      return names[k].name;
    }
  char *s = fa_alloc(p->ar, 8);
  s[0] = '#';
  s[1] = '\\';
  *len = 2 + (uint32_t)utf8_encode(cp, s + 2);
  return s;
}

/* An atom: scanned and checked by the reader itself. */
static bool parse_atom(Parser *p, NVec *out) {
  Node *n = new_node(p, N_ATOM);
  int c = p_peek(p, 0), d = p_peek(p, 1);
  if (c == '.' && !sym_cont_at(p->src, p->len, p->i + 1)) {
    n->text = ".";
    n->len = 1;
    n->flat = 1;
    p_adv(p, 1);
    nv_push(p, out, n);
    return true;
  }
  Reader r;
  reader_init(&r, p->vm, p->src, p->len);
  r.i = p->i;
  r.line = p->line;
  r.col = p->col;
  r.depth = p->depth;
  Value v;
  if (!reader_next(&r, &v) || r.i <= p->i)
    return p_fail(p, n->line, n->col, "unexpected end of input"); /* not reached: p->i is at a token */
  size_t len = r.i - p->i;
  const char *text = p->src + p->i;
  if (c == '#' && d == '\\' && is_char(v)) {
    text = char_text(p, char_of(v), &n->len);
    len = n->len;
  } else if (is_bool(v)) {
    text = v == TRUE_VAL ? "#t" : "#f";
    len = 2;
  } else if ((c == '"' || ((c == 'f' || c == '#') && d == '"')) && memchr(text, '\n', len)) {
    n->flags |= F_MLSTR;
  }
  if (is_sym(v)) n->flags |= F_SYMBOL;
  n->text = text;
  n->len = (uint32_t)len;
  n->flat = len;
  p_adv(p, r.i - p->i);
  nv_push(p, out, n);
  return true;
}

static bool parse_item(Parser *p, NVec *out) {
  int c = p_peek(p, 0), d = p_peek(p, 1);
  switch (c) {
  case '(': return parse_group(p, out, G_LIST, 1, ')');
  case '[': return parse_group(p, out, G_VEC, 1, ']');
  case '{': return parse_group(p, out, G_MAP, 1, '}');
  case '\'':
  case '`':
  case ',': return parse_prefix(p, out);
  case '#':
    if (d == '(') return parse_group(p, out, G_LAMBDA, 2, ')');
    if (d == 'u' && p_peek(p, 2) == '8' && p_peek(p, 3) == '(') return parse_group(p, out, G_BYTES, 4, ')');
    break;
  default: break;
  }
  return parse_atom(p, out);
}

typedef struct {
  Parser *p;
  NVec *top;
  bool ok;
} ParseJob;

static void parse_job(VM *vm, void *ud) {
  (void)vm;
  ParseJob *j = ud;
  j->ok = parse_items(j->p, j->top, 0, NULL);
}

/* The reader's error as a FmtError (the message without its " at L:C"). */
static void reader_error(VM *vm, FmtError *err) {
  Value msg = NIL_VAL, line = NIL_VAL, col = NIL_VAL;
  if (is_map(vm_error(vm))) {
    map_get(vm_error(vm), KW(vm, "message"), &msg);
    map_get(vm_error(vm), KW(vm, "line"), &line);
    map_get(vm_error(vm), KW(vm, "col"), &col);
  }
  err->line = is_int(line) ? (uint32_t)int_of(line) : 0;
  err->col = is_int(col) ? (uint32_t)int_of(col) : 0;
  if (!is_string(msg)) {
    snprintf(err->msg, sizeof err->msg, "%s", is_string(vm_error(vm)) ? str_data(vm_error(vm)) : "error while reading");
    return;
  }
  const char *m = str_data(msg);
  size_t n = strlen(m);
  char tail[64];
  snprintf(tail, sizeof tail, " at %u:%u", err->line, err->col);
  size_t tl = strlen(tail);
  if (n >= tl && strcmp(m + n - tl, tail) == 0) n -= tl;
  snprintf(err->msg, sizeof err->msg, "%.*s", (int)n, m);
}

/* ================================================================ output */

typedef struct {
  StrBuf *b;  /* NULL for a probe */
  size_t col; /* bytes since the last line break */
  bool probe; /* stop at the first line break */
  bool stop;
} Out;

static void o_text(Out *o, const char *s, size_t n) {
  if (o->stop) return;
  const char *nl = memrchr(s, '\n', n);
  if (nl) {
    if (o->probe) {
      o->stop = true;
      return;
    }
    o->col = n - (size_t)(nl - s) - 1;
  } else
    o->col += n;
  if (o->b) sb_add(o->b, s, n);
}

static void o_char(Out *o, char c) { o_text(o, &c, 1); }
static void o_str(Out *o, const char *s) { o_text(o, s, strlen(s)); }

static void o_spaces(Out *o, size_t n) {
  if (o->stop) return;
  o->col += n;
  if (!o->b) return;
  static const char sp[64] = "                                                                ";
  while (n) {
    size_t k = n < sizeof sp ? n : sizeof sp;
    sb_add(o->b, sp, k);
    n -= k;
  }
}

/* A line break (after an empty line when blank), then indentation. */
static void o_nl(Out *o, size_t indent, bool blank) {
  if (o->stop) return;
  if (o->probe) {
    o->stop = true;
    return;
  }
  if (blank) sb_addc(o->b, '\n');
  sb_addc(o->b, '\n');
  o->col = 0;
  o_spaces(o, indent);
}

/* ================================================================ layout */

typedef struct {
  size_t width, indent;
  bool align;
} Fmt;

enum { K_BODY, K_BINDING, K_CLAUSE, K_THREAD, K_TRY, K_IF, K_IMPORT, K_CALL };

static void render(const Fmt *f, Out *o, const Node *n, size_t c);

static void emit_flat(Out *o, const Node *n) {
  if (o->stop) return;
  switch (n->kind) {
  case N_GROUP:
    o_str(o, g_open[n->group]);
    for (uint32_t s = 0; s < n->nsem && !o->stop; s++) {
      if (s) o_char(o, ' ');
      emit_flat(o, n->sem[s]);
    }
    o_str(o, g_close[n->group]);
    return;
  case N_PREFIX:
    o_text(o, n->text, n->len);
    emit_flat(o, n->kids[0]);
    return;
  default: o_text(o, n->text, n->len);
  }
}

static void flat_string(const Node *n, StrBuf *b) {
  Out o = {b, 0, false, false};
  emit_flat(&o, n);
}

/* Would n, laid out with nominal indent c starting at column col, stay on one line? */
static bool single_line(const Fmt *f, const Node *n, size_t c, size_t col) {
  Out o = {NULL, col, true, false};
  render(f, &o, n, c);
  return !o.stop;
}

/* The check before putting x beside what precedes it.  A probe renders x
 * directly instead: if x breaks, the layout would have put it on a line of
 * its own, which breaks the probed form just the same, so the answer is the
 * same and nested probes cost no more than one. */
static bool fits_here(const Fmt *f, const Out *o, const Node *x, size_t c) {
  if (o->col + 1 + measure(x) > f->width) return false;
  return o->probe || single_line(f, x, c, o->col + 1);
}

static bool try_flat(const Fmt *f, Out *o, const Node *n, size_t c, bool allowed) {
  if (!allowed || (n->flags & (F_COMMENT | F_NEWLINE)) || c + n->flat > f->width) return false;
  emit_flat(o, n);
  return true;
}

static const char *const body_heads[] = {"define", "defn", "defun", "defmacro", "fn", "lambda", "do", "begin",
                                         "when", "unless", "module", "defagent", "deftool", "prompt", "message",
                                         "export", "for", "for-each", "while", "with-open-file",
                                         "with-exception-handler", "define-record-type", "define-syntax",
                                         "syntax-rules", NULL};
static const char *const binding_heads[] = {"let", "let*", "letrec", "when-let", "if-let", NULL};
static const char *const clause_heads[] = {"cond", "case", "match", NULL};
static const char *const thread_heads[] = {"->", "->>", "as->", "some->", NULL};
static const char *const import_heads[] = {"import", "load", "require", NULL};

static bool head_in(const Node *h, const char *const *names) {
  for (; *names; names++)
    if (sym_is(h, *names)) return true;
  return false;
}

static int form_kind(const Node *g) {
  if (!g->nsem) return K_CALL;
  const Node *h = g->sem[0];
  if (h->kind != N_ATOM || !(h->flags & F_SYMBOL)) return K_CALL;
  if (head_in(h, body_heads)) return K_BODY;
  if (head_in(h, binding_heads)) return K_BINDING;
  if (head_in(h, clause_heads)) return K_CLAUSE;
  if (head_in(h, thread_heads)) return K_THREAD;
  if (sym_is(h, "try")) return K_TRY;
  if (sym_is(h, "if")) return K_IF;
  if (head_in(h, import_heads)) return K_IMPORT;
  return K_CALL;
}

/* How many semantic children a body form may keep on its first line (head included). */
static uint32_t first_line_count(const Node *g) {
  const Node *h = g->sem[0];
  uint32_t n = g->nsem;
#define MIN(a, b) ((a) < (b) ? (a) : (b))
  if (sym_is(h, "define")) return n > 1 && is_group(g->sem[1], G_LIST) ? 2 : MIN(n, 3);
  if (sym_is(h, "defn") || sym_is(h, "defun") || sym_is(h, "defmacro")) return MIN(n, 3);
  if (sym_is(h, "define-record-type")) return MIN(n, 4);
  if (sym_is(h, "define-syntax") || sym_is(h, "deftool") || sym_is(h, "defagent")) return MIN(n, 2);
  if (sym_is(h, "fn") || sym_is(h, "lambda") || sym_is(h, "when") || sym_is(h, "unless") || sym_is(h, "while"))
    return n > 1 ? 2 : 1;
#undef MIN
  return 1;
}

static bool is_named_let(const Node *g) {
  return g->nsem >= 3 && sym_is(g->sem[0], "let") && g->sem[1]->kind == N_ATOM && (g->sem[1]->flags & F_SYMBOL) &&
         is_listlike(g->sem[2]);
}

static bool forced_open(const Node *g, int kind) {
  if (kind == K_BODY) return g->nsem > first_line_count(g) + 1;
  if (kind == K_BINDING) {
    uint32_t bi = is_named_let(g) ? 2 : 1;
    if (g->nsem <= bi || !is_listlike(g->sem[bi])) return false;
    const Node *b = g->sem[bi];
    uint32_t pairs = 0;
    for (uint32_t s = 0; s < b->nsem; s++) pairs += is_listlike(b->sem[s]);
    return pairs >= 2;
  }
  return false;
}

/* Index in kids just after the k-th semantic child (k >= 1). */
static uint32_t after_sem(const Node *g, uint32_t k) { return k == 0 ? 0 : k <= g->nsem ? g->semix[k - 1] + 1 : g->nkids; }

/* The children from kids[start] on, one per line at indent bi; comments on
 * their own lines; runs of blank lines become one; after a final comment the
 * caller's closer goes on a line of its own. */
static void emit_body(const Fmt *f, Out *o, const Node *g, uint32_t start, size_t bi) {
  int nl = 0;
  bool last_comment = false;
  for (uint32_t k = start; k < g->nkids && !o->stop; k++) {
    const Node *x = g->kids[k];
    if (x->kind == N_NL) {
      nl++;
      continue;
    }
    o_nl(o, bi, nl >= 2);
    if (x->kind == N_COMMENT) {
      o_text(o, x->text, x->len);
      last_comment = true;
    } else {
      render(f, o, x, bi);
      last_comment = false;
    }
    nl = 0;
  }
  if (last_comment) o_nl(o, bi, false);
}

/* Comments before the first semantic child, each on its own line at ei. */
static bool emit_leading_comments(Out *o, const Node *g, size_t ei) {
  bool any = false;
  for (uint32_t k = 0; k < g->nkids && is_semantic(g->kids[k]) == false; k++)
    if (g->kids[k]->kind == N_COMMENT) {
      o_nl(o, ei, false);
      o_text(o, g->kids[k]->text, g->kids[k]->len);
      any = true;
    }
  return any;
}

static void layout_empty(Out *o, const Node *g, size_t c) {
  o_str(o, g_open[g->group]);
  if (g->flags & F_COMMENT) {
    size_t ei = c + g_openlen(g);
    emit_leading_comments(o, g, ei);
    o_nl(o, ei, false);
  }
  o_str(o, g_close[g->group]);
}

/* Opener alone when comments precede the head, the head, then every other child on its own line. */
static void layout_head_body(const Fmt *f, Out *o, const Node *g, size_t c) {
  size_t ei = c + g_openlen(g);
  o_str(o, g_open[g->group]);
  if (emit_leading_comments(o, g, ei)) o_nl(o, ei, false);
  render(f, o, g->sem[0], ei);
  emit_body(f, o, g, after_sem(g, 1), c + f->indent);
  o_str(o, g_close[g->group]);
}

static void layout_body(const Fmt *f, Out *o, const Node *g, size_t c) {
  uint32_t first = first_line_count(g);
  if (first > g->nsem) first = g->nsem;
  if (first > g->sbfc) first = g->sbfc;
  size_t bi = c + f->indent;
  o_str(o, g_open[g->group]);
  render(f, o, g->sem[0], c + g_openlen(g));
  uint32_t done = 1;
  for (uint32_t j = 1; j < first && !o->stop; j++) {
    const Node *x = g->sem[j];
    if (breaks_after(g->sem[j - 1]) || !fits_here(f, o, x, bi)) break;
    o_char(o, ' ');
    render(f, o, x, bi);
    done++;
  }
  emit_body(f, o, g, after_sem(g, done), bi);
  o_str(o, g_close[g->group]);
}

static void layout_coll(const Fmt *f, Out *o, const Node *g, size_t c);

static void layout_binding(const Fmt *f, Out *o, const Node *g, size_t c);

/* (f a\n  b\n  c): the first argument beside the head when it fits and stays on one line. */
static void layout_call(const Fmt *f, Out *o, const Node *g, size_t c);

static void layout_kv(const Fmt *f, Out *o, const Node *g, size_t c) {
  bool assoc = sym_is(g->sem[0], "assoc");
  uint32_t kv0 = assoc ? 2 : 1;
  if (g->sbfc < kv0 && g->nsem >= kv0) {
    layout_head_body(f, o, g, c);
    return;
  }
  size_t pi = c + f->indent;
  o_str(o, g_open[g->group]);
  render(f, o, g->sem[0], c + g_openlen(g));
  if (assoc && g->nsem > 1) {
    o_char(o, ' ');
    render(f, o, g->sem[1], pi);
  }
  uint32_t idx = 0;
  bool after_comment = false;
  const Node *prev = g->sem[0];
  for (uint32_t k = after_sem(g, kv0 < g->nsem ? kv0 : g->nsem); k < g->nkids && !o->stop; k++) {
    const Node *x = g->kids[k];
    if (x->kind == N_NL) continue;
    if (x->kind == N_COMMENT) {
      o_nl(o, pi, false);
      o_text(o, x->text, x->len);
      after_comment = true;
      continue;
    }
    if (idx++ % 2 == 0) {
      o_nl(o, pi, false);
      render(f, o, x, pi);
    } else if (!after_comment && !breaks_after(prev) && fits_here(f, o, x, pi)) {
      o_char(o, ' ');
      render(f, o, x, pi);
    } else {
      o_nl(o, pi + f->indent, false);
      render(f, o, x, pi + f->indent);
    }
    after_comment = false;
    prev = x;
  }
  if (after_comment) o_nl(o, pi, false);
  o_str(o, g_close[g->group]);
}

static void layout_call(const Fmt *f, Out *o, const Node *g, size_t c) {
  if (sym_is(g->sem[0], "hash-map") || sym_is(g->sem[0], "assoc")) {
    layout_kv(f, o, g, c);
    return;
  }
  size_t ai = c + f->indent;
  o_str(o, g_open[g->group]);
  render(f, o, g->sem[0], c + g_openlen(g));
  if (g->nsem >= 2 && g->sbfc >= 2 && !breaks_after(g->sem[0]) && c + g_openlen(g) + measure(g->sem[0]) + 1 + measure(g->sem[1]) <= f->width &&
      (o->probe || single_line(f, g->sem[1], ai, o->col + 1))) {
    o_char(o, ' ');
    render(f, o, g->sem[1], ai);
    emit_body(f, o, g, after_sem(g, 2), ai);
  } else
    emit_body(f, o, g, after_sem(g, 1), ai);
  o_str(o, g_close[g->group]);
}

/* (let BINDINGS\n  body...) and (let NAME BINDINGS\n  body...): the binding
 * collection beside the head, laid out as a collection. */
static void layout_binding(const Fmt *f, Out *o, const Node *g, size_t c) {
  if (g->nsem < 2) {
    layout_call(f, o, g, c);
    return;
  }
  bool named = is_named_let(g);
  uint32_t bi = named ? 2 : 1;
  if (g->sbfc < bi + 1) {
    layout_head_body(f, o, g, c);
    return;
  }
  size_t col = c + g_openlen(g) + measure(g->sem[0]) + 1;
  o_str(o, g_open[g->group]);
  render(f, o, g->sem[0], c + g_openlen(g));
  o_char(o, ' ');
  if (named) {
    render(f, o, g->sem[1], col);
    o_char(o, ' ');
    col += measure(g->sem[1]) + 1;
  }
  const Node *b = g->sem[bi];
  if (is_listlike(b))
    layout_coll(f, o, b, col);
  else
    render(f, o, b, col);
  emit_body(f, o, g, after_sem(g, bi + 1), c + f->indent);
  o_str(o, g_close[g->group]);
}

/* --align: split a two-element list into "(left" and "right)"; false if it
 * does not qualify.  What qualifies is judged by how the pair would come out
 * (on one line), not by whether the input had line breaks in it: a pair the
 * normal layout joins onto one line must align in this pass already, or the
 * next pass would align it and formatting would not be idempotent. */
static bool split_pair(const Fmt *f, const Node *x, bool atom_left, size_t c, size_t col, StrBuf *left,
                       StrBuf *right) {
  if (!is_listlike(x) || x->nsem != 2 || (x->flags & (F_COMMENT | F_MLSTR))) return false;
  if (atom_left && x->sem[0]->kind != N_ATOM) return false;
  if ((x->flags & F_NEWLINE) && !single_line(f, x, c, col)) return false;
  sb_adds(left, g_open[x->group]);
  flat_string(x->sem[0], left);
  flat_string(x->sem[1], right);
  sb_adds(right, g_close[x->group]);
  return true;
}

/* Lines "left<pad>right", the first at the current position, the others at column ind. */
static bool emit_aligned(const Fmt *f, Out *o, const Node *const *items, uint32_t n, size_t ind, bool atom_left,
                         bool clauses) {
  if (n < 2) return false;
  StrBuf *l = malloc(n * sizeof *l), *r = malloc(n * sizeof *r);
  if (!l || !r) fmt_oom();
  bool ok = true;
  uint32_t made = 0;
  size_t maxl = 0, minl = SIZE_MAX;
  for (; made < n && ok; made++) {
    sb_init(&l[made]);
    sb_init(&r[made]);
    ok = split_pair(f, items[made], atom_left, ind, made || clauses ? ind : o->col, &l[made], &r[made]);
    if (ok) {
      if (l[made].len > maxl) maxl = l[made].len;
      if (l[made].len < minl) minl = l[made].len;
    }
  }
  size_t gap = 2;
  if (ok && maxl == minl) {
    if (clauses)
      gap = 1;
    else
      ok = false;
  }
  for (uint32_t k = 0; ok && k < n; k++)
    if (ind + maxl + gap + r[k].len > f->width) ok = false;
  if (ok)
    for (uint32_t k = 0; k < n; k++) {
      if (k || clauses) o_nl(o, ind, false);
      o_text(o, l[k].data, l[k].len);
      o_spaces(o, maxl - l[k].len + gap);
      o_text(o, r[k].data, r[k].len);
    }
  for (uint32_t k = 0; k < made; k++) {
    sb_free(&l[k]);
    sb_free(&r[k]);
  }
  free(l);
  free(r);
  return ok;
}

static void layout_clause(const Fmt *f, Out *o, const Node *g, size_t c) {
  size_t ci = c + f->indent;
  o_str(o, g_open[g->group]);
  render(f, o, g->sem[0], c + g_openlen(g));
  uint32_t start = after_sem(g, 1);
  bool comments = false;
  for (uint32_t k = start; k < g->nkids; k++) comments |= (g->kids[k]->flags & F_COMMENT) != 0;
  if (!(f->align && !comments && g->nsem >= 3 && !o->probe &&
        emit_aligned(f, o, (const Node *const *)g->sem + 1, g->nsem - 1, ci, false, true)))
    emit_body(f, o, g, start, ci);
  o_str(o, g_close[g->group]);
}

static void layout_thread(const Fmt *f, Out *o, const Node *g, size_t c) {
  if (g->nsem < 2) {
    layout_call(f, o, g, c);
    return;
  }
  if (g->sbfc < 2) {
    layout_head_body(f, o, g, c);
    return;
  }
  o_str(o, g_open[g->group]);
  render(f, o, g->sem[0], c + g_openlen(g));
  o_char(o, ' ');
  render(f, o, g->sem[1], c + f->indent);
  emit_body(f, o, g, after_sem(g, 2), c + f->indent);
  o_str(o, g_close[g->group]);
}

static void layout_if(const Fmt *f, Out *o, const Node *g, size_t c) {
  if (g->nsem >= 2 && g->sbfc < 2) {
    layout_head_body(f, o, g, c);
    return;
  }
  o_str(o, g_open[g->group]);
  render(f, o, g->sem[0], c + g_openlen(g));
  if (g->nsem >= 2) {
    o_char(o, ' ');
    render(f, o, g->sem[1], c + f->indent);
  }
  emit_body(f, o, g, after_sem(g, g->nsem >= 2 ? 2 : 1), c + f->indent);
  o_str(o, g_close[g->group]);
}

static void layout_list(const Fmt *f, Out *o, const Node *g, size_t c) {
  if (!g->nsem) {
    layout_empty(o, g, c);
    return;
  }
  if (g->sbfc == 0) {
    layout_head_body(f, o, g, c);
    return;
  }
  int kind = form_kind(g);
  if (try_flat(f, o, g, c, !forced_open(g, kind))) return;
  switch (kind) {
  case K_BODY:
  case K_TRY: layout_body(f, o, g, c); return;
  case K_BINDING: layout_binding(f, o, g, c); return;
  case K_CLAUSE: layout_clause(f, o, g, c); return;
  case K_THREAD: layout_thread(f, o, g, c); return;
  case K_IF: layout_if(f, o, g, c); return;
  case K_IMPORT:
    o_str(o, g_open[g->group]);
    render(f, o, g->sem[0], c + g_openlen(g));
    emit_body(f, o, g, after_sem(g, 1), c + f->indent);
    o_str(o, g_close[g->group]);
    return;
  default: layout_call(f, o, g, c); return;
  }
}

/* Vectors, bytevectors and binding lists: one element per line under the first. */
static void layout_coll(const Fmt *f, Out *o, const Node *g, size_t c) {
  if (!g->nsem) {
    layout_empty(o, g, c);
    return;
  }
  if (try_flat(f, o, g, c, true)) return;
  size_t ei = c + g_openlen(g);
  o_str(o, g_open[g->group]);
  if (f->align && !(g->flags & F_COMMENT) && !o->probe && g->group != G_BYTES &&
      emit_aligned(f, o, (const Node *const *)g->sem, g->nsem, ei, true, false)) {
    o_str(o, g_close[g->group]);
    return;
  }
  if (emit_leading_comments(o, g, ei)) o_nl(o, ei, false);
  render(f, o, g->sem[0], ei);
  emit_body(f, o, g, after_sem(g, 1), ei);
  o_str(o, g_close[g->group]);
}

/* {k v\n k v}: one pair per line one column in, the value beside its key. */
static void layout_map(const Fmt *f, Out *o, const Node *g, size_t c) {
  if (!g->nsem) {
    layout_empty(o, g, c);
    return;
  }
  if (try_flat(f, o, g, c, true)) return;
  size_t pi = c + 1;
  o_char(o, '{');
  bool started = false, after_comment = false;
  uint32_t idx = 0;
  const Node *prev = NULL;
  for (uint32_t k = 0; k < g->nkids && !o->stop; k++) {
    const Node *x = g->kids[k];
    if (x->kind == N_NL) continue;
    if (x->kind == N_COMMENT) {
      o_nl(o, pi, false);
      o_text(o, x->text, x->len);
      started = after_comment = true;
      continue;
    }
    if (idx++ % 2 == 0) {
      if (started) o_nl(o, pi, false);
      render(f, o, x, pi);
    } else if (after_comment || (prev && breaks_after(prev))) {
      o_nl(o, pi + f->indent, false);
      render(f, o, x, pi + f->indent);
    } else {
      o_char(o, ' ');
      render(f, o, x, pi);
    }
    started = true;
    after_comment = false;
    prev = x;
  }
  if (after_comment) o_nl(o, pi, false);
  o_char(o, '}');
}

static void render(const Fmt *f, Out *o, const Node *n, size_t c) {
  if (o->stop) return;
  switch (n->kind) {
  case N_PREFIX:
    o_text(o, n->text, n->len);
    render(f, o, n->kids[0], c);
    return;
  case N_GROUP:
    switch (n->group) {
    case G_LIST:
    case G_LAMBDA: layout_list(f, o, n, c); return;
    case G_MAP: layout_map(f, o, n, c); return;
    default: layout_coll(f, o, n, c); return;
    }
  default: o_text(o, n->text, n->len);
  }
}

/* ---- top level ---- */

static bool define_alignable(const Node *n) {
  if (!is_group(n, G_LIST) || n->nsem != 3 || (n->flags & F_COMMENT)) return false;
  const Node *h = n->sem[0];
  return sym_is(h, "define") || sym_is(h, "defn") || sym_is(h, "defun") || sym_is(h, "defmacro");
}

/* --align: a run of one-line defines starting at top[i], separated by at most
 * one line break.  Writes it (aligned when that applies) and returns the index
 * after it, or i when there is no run of two or more. */
static uint32_t define_run(const Fmt *f, Out *o, Node **top, uint32_t ntop, uint32_t i) {
  uint32_t n = 0, cap = 0, k = i, trailing = UINT32_MAX, *idx = NULL;
  while (k < ntop && define_alignable(top[k])) {
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      idx = realloc(idx, cap * sizeof *idx);
      if (!idx) fmt_oom();
    }
    idx[n++] = k++;
    if (k < ntop && top[k]->kind == N_COMMENT) {
      trailing = k++;
      break;
    }
    uint32_t j = k;
    while (j < ntop && top[j]->kind == N_NL) j++;
    if (j - k > 1 || j >= ntop || !define_alignable(top[j])) break;
    k = j;
  }
  if (n < 2) {
    free(idx);
    return i;
  }
  StrBuf *l = malloc(n * sizeof *l), *r = malloc(n * sizeof *r);
  if (!l || !r) fmt_oom();
  size_t maxl = 0, minl = SIZE_MAX;
  bool ok = true;
  for (uint32_t m = 0; m < n; m++) {
    const Node *d = top[idx[m]];
    sb_init(&l[m]);
    sb_init(&r[m]);
    sb_adds(&l[m], "(");
    flat_string(d->sem[0], &l[m]);
    sb_addc(&l[m], ' ');
    flat_string(d->sem[1], &l[m]);
    flat_string(d->sem[2], &r[m]);
    sb_addc(&r[m], ')');
    if ((d->flags & F_MLSTR) || ((d->flags & F_NEWLINE) && !single_line(f, d, 0, 0))) ok = false;
    if (l[m].len > maxl) maxl = l[m].len;
    if (l[m].len < minl) minl = l[m].len;
  }
  if (maxl == minl) ok = false;
  for (uint32_t m = 0; ok && m < n; m++)
    if (maxl + 2 + r[m].len > f->width) ok = false;
  for (uint32_t m = 0; m < n; m++) {
    if (m) o_nl(o, 0, false);
    if (ok) {
      o_text(o, l[m].data, l[m].len);
      o_spaces(o, maxl - l[m].len + 2);
      o_text(o, r[m].data, r[m].len);
    } else
      render(f, o, top[idx[m]], 0);
    sb_free(&l[m]);
    sb_free(&r[m]);
  }
  free(l);
  free(r);
  free(idx);
  if (trailing != UINT32_MAX) {
    o_nl(o, 0, false);
    o_text(o, top[trailing]->text, top[trailing]->len);
  }
  return k;
}

static void format_top(const Fmt *f, StrBuf *b, Node **top, uint32_t ntop, const char *shebang, size_t shlen) {
  Out o = {b, 0, false, false};
  if (shebang) {
    o_text(&o, shebang, shlen);
    o_text(&o, "\n", 1);
  }
  bool first = true;
  int pending = 0;
  for (uint32_t k = 0; k < ntop;) {
    Node *n = top[k];
    if (n->kind == N_NL) {
      pending++;
      k++;
      continue;
    }
    if (!first && pending >= 2) o_text(&o, "\n", 1);
    first = false;
    pending = 0;
    if (n->kind == N_COMMENT) {
      o_text(&o, n->text, n->len);
      k++;
    } else {
      uint32_t next = f->align ? define_run(f, &o, top, ntop, k) : k;
      if (next != k) {
        k = next;
      } else {
        render(f, &o, n, 0);
        k++;
        if (k < ntop && top[k]->kind == N_COMMENT) {
          o_char(&o, ' ');
          o_text(&o, top[k]->text, top[k]->len);
          k++;
        }
      }
    }
    o_text(&o, "\n", 1);
  }
}

/* ================================================================ entry points */

typedef struct {
  const char *src;
  size_t len;
  StrBuf *out;
} PrintJob;

static void print_job(VM *vm, void *ud) {
  PrintJob *j = ud;
  Value forms = reader_read_all(vm, j->src, j->len);
  vm_push_root(vm, forms);
  print_value(vm, j->out, forms, true);
  vm_pop_roots(vm, 1);
}

/* The written form of everything src reads to; false (and vm_error) if it does not read. */
static bool read_print(VM *vm, const char *src, size_t len, StrBuf *out) {
  PrintJob j = {src, len, out};
  uint32_t roots = vm_roots_mark(vm);
  int rc = vm_protect(vm, print_job, &j);
  vm_roots_reset(vm, roots);
  return rc == 0;
}

int fmt_same_data(VM *vm, const char *a, size_t alen, const char *b, size_t blen) {
  StrBuf pa, pb;
  sb_init(&pa);
  sb_init(&pb);
  int r = -1;
  if (read_print(vm, a, alen, &pa) && read_print(vm, b, blen, &pb))
    r = pa.len == pb.len && memcmp(pa.data, pb.data, pa.len) == 0;
  sb_free(&pa);
  sb_free(&pb);
  return r;
}

static void pos_of(const char *src, size_t at, uint32_t *line, uint32_t *col) {
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < at; i++) {
    if (src[i] == '\n') {
      ++*line;
      *col = 1;
    } else if (((unsigned char)src[i] & 0xC0) != 0x80)
      ++*col;
  }
}

static FmtStatus syntax_error(FmtError *err, const char *src, size_t at, const char *msg) {
  pos_of(src, at, &err->line, &err->col);
  snprintf(err->msg, sizeof err->msg, "%s", msg);
  return FMT_ESYNTAX;
}

static FmtStatus format_text(VM *vm, const char *src, size_t len, const FmtOptions *opt, StrBuf *out, FmtError *err);

/* A byte order mark at the start is what the reader skips (an editor's
 * choice of encoding marker, not code): the text after it is formatted and
 * the mark kept, since the formatter changes layout, never the encoding.
 * Error positions count from after the mark, as the editor shows them. A
 * second mark is text the reader rejects, and so does the parser below. */
FmtStatus fmt_format(VM *vm, const char *src, size_t len, const FmtOptions *opt, StrBuf *out, FmtError *err) {
  if (len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0) {
    StrBuf text;
    sb_init(&text);
    FmtStatus st = format_text(vm, src + 3, len - 3, opt, &text, err);
    if (st == FMT_OK) {
      sb_add(out, src, 3);
      if (text.len) sb_add(out, text.data, text.len);
    }
    sb_free(&text);
    return st;
  }
  return format_text(vm, src, len, opt, out, err);
}

static FmtStatus format_text(VM *vm, const char *src, size_t len, const FmtOptions *opt, StrBuf *out, FmtError *err) {
  err->line = err->col = 0;
  err->msg[0] = 0;
  /* text the reader would misread or that is not text at all */
  const char *nul = memchr(src, 0, len);
  if (nul) return syntax_error(err, src, (size_t)(nul - src), "NUL byte in the source (is this a binary file?)");
  size_t bad;
  if (!utf8_valid(src, len, &bad)) return syntax_error(err, src, bad, "invalid UTF-8 in the source");

  Fmt f = {opt->width, opt->indent, opt->align};
  FArena ar = {NULL};
  Parser p = {vm, src, len, 0, 1, 1, 0, 0, &ar, err};
  const char *shebang = NULL;
  size_t shlen = 0;
  if (len >= 2 && src[0] == '#' && src[1] == '!') {
    const char *e = memchr(src, '\n', len);
    size_t n = e ? (size_t)(e - src) : len;
    shebang = src;
    shlen = n;
    while (shlen > 2 && (src[shlen - 1] == ' ' || src[shlen - 1] == '\t' || src[shlen - 1] == '\r')) shlen--;
    p_adv(&p, n);
  }
  NVec top = {0};
  ParseJob pj = {&p, &top, false};
  uint32_t roots = vm_roots_mark(vm);
  if (vm_protect(vm, parse_job, &pj)) {
    vm_roots_reset(vm, roots);
    reader_error(vm, err);
    fa_free(&ar);
    return FMT_ESYNTAX;
  }
  if (!pj.ok) {
    fa_free(&ar);
    return FMT_ESYNTAX;
  }
  vm_safepoint(vm); /* the atoms' values are garbage now */

  StrBuf before, after, text;
  sb_init(&before);
  sb_init(&after);
  sb_init(&text);
  FmtStatus st = FMT_OK;
  if (!read_print(vm, src, len, &before)) {
    reader_error(vm, err);
    st = FMT_ESYNTAX;
  } else {
    format_top(&f, &text, top.v, top.n, shebang, shlen);
    if (!read_print(vm, text.data ? text.data : "", text.len, &after) || after.len != before.len ||
        memcmp(after.data, before.data, before.len) != 0) {
      snprintf(err->msg, sizeof err->msg,
               "internal error: the formatted text would not read back to the same program; "
               "nothing was changed (please report this with the file)");
      st = FMT_EINTERNAL;
    }
  }
  if (st == FMT_OK && text.len) sb_add(out, text.data, text.len);
  sb_free(&before);
  sb_free(&after);
  sb_free(&text);
  fa_free(&ar);
  vm_safepoint(vm);
  return st;
}

/* ================================================================ sema fmt */

typedef enum { MODE_WRITE, MODE_CHECK, MODE_DIFF, MODE_STDOUT, MODE_JSON } Mode;

typedef struct {
  char **v;
  size_t n, cap;
} PathList;

static void pl_add(PathList *l, const char *s) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 32;
    l->v = realloc(l->v, l->cap * sizeof *l->v);
    if (!l->v) fmt_oom();
  }
  l->v[l->n] = strdup(s);
  if (!l->v[l->n]) fmt_oom();
  l->n++;
}

static void pl_free(PathList *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i]);
  free(l->v);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* ---- finding files ---- */

static char *path_join(const char *dir, const char *name) {
  size_t dl = strlen(dir), nl = strlen(name);
  char *s = malloc(dl + nl + 2);
  if (!s) fmt_oom();
  if (strcmp(dir, ".") == 0) {
    memcpy(s, name, nl + 1);
  } else {
    memcpy(s, dir, dl);
    size_t k = dl;
    if (k && s[k - 1] != '/') s[k++] = '/';
    memcpy(s + k, name, nl + 1);
  }
  return s;
}

/* One path segment of a glob against one name; "**" is handled by glob_match. */
static bool glob_match(const char *pat, const char *path) {
  if (!*pat) return !*path;
  const char *ps = strchr(pat, '/');
  size_t plen = ps ? (size_t)(ps - pat) : strlen(pat);
  if (plen == 2 && pat[0] == '*' && pat[1] == '*') {
    const char *rest = ps ? ps + 1 : "";
    for (const char *q = path;;) { /* zero or more whole segments */
      if (glob_match(rest, q)) return true;
      const char *slash = strchr(q, '/');
      if (!slash) return !*rest;
      q = slash + 1;
    }
  }
  const char *ss = strchr(path, '/');
  size_t slen = ss ? (size_t)(ss - path) : strlen(path);
  if ((ps == NULL) != (ss == NULL)) return false;
  char pseg[PATH_MAX], sseg[PATH_MAX];
  if (plen >= sizeof pseg || slen >= sizeof sseg) return false;
  memcpy(pseg, pat, plen);
  pseg[plen] = 0;
  memcpy(sseg, path, slen);
  sseg[slen] = 0;
  if (fnmatch(pseg, sseg, FNM_PERIOD) != 0) return false;
  return ps ? glob_match(ps + 1, ss + 1) : true;
}

/* Regular files under dir (hidden directories and symlinked directories are
 * not entered) that end in .sema, or match pattern when one is given. */
static void walk(const char *dir, const char *pattern, PathList *out, int depth) {
  if (depth > 64) return;
  DIR *d = opendir(dir);
  if (!d) return;
  PathList names = {0};
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.') pl_add(&names, e->d_name);
  closedir(d);
  qsort(names.v, names.n, sizeof *names.v, cmp_str);
  for (size_t i = 0; i < names.n; i++) {
    char *p = path_join(dir, names.v[i]);
    struct stat st;
    if (lstat(p, &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        walk(p, pattern, out, depth + 1);
      } else if (S_ISREG(st.st_mode) || (S_ISLNK(st.st_mode) && stat(p, &st) == 0 && S_ISREG(st.st_mode))) {
        size_t n = strlen(p);
        if (pattern ? glob_match(pattern, p) : (n > 5 && strcmp(p + n - 5, ".sema") == 0)) pl_add(out, p);
      }
    }
    free(p);
  }
  pl_free(&names);
}

static bool has_glob_chars(const char *s) { return strpbrk(s, "*?[") != NULL; }

static void expand_glob(const char *pat, PathList *out) {
  /* walk from the longest leading run of literal segments */
  char base[PATH_MAX];
  size_t b = 0;
  const char *p = pat, *lit_end = pat;
  while (*p) {
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    bool wild = false;
    for (size_t k = 0; k < n; k++) wild |= strchr("*?[", p[k]) != NULL;
    if (wild || !slash) break;
    lit_end = slash + 1;
    p = slash + 1;
  }
  b = (size_t)(lit_end - pat);
  if (b >= sizeof base) return;
  memcpy(base, pat, b);
  base[b] = 0;
  if (b == 0) strcpy(base, ".");
  else if (b > 1) base[b - 1] = 0; /* drop the trailing '/' */
  size_t first = out->n;
  walk(base, pat, out, 0);
  qsort(out->v + first, out->n - first, sizeof *out->v, cmp_str);
}

/* ---- configuration: [fmt] in sema.toml ---- */

static bool config_int(VM *vm, const char *path, Value tab, const char *key, size_t max, size_t *out) {
  Value v;
  if (!map_get(tab, KW(vm, key), &v)) return false;
  if (!is_int(v) || int_of(v) < 0 || (uint64_t)int_of(v) > max) {
    fprintf(stderr, "sema fmt: %s: [fmt] %s must be an integer from 0 to %zu; ignored\n", path, key, max);
    return false;
  }
  *out = (size_t)int_of(v);
  return true;
}

/* Options from the first sema.toml found from the current directory upward.
 * A file that does not parse is reported and ignored (defaults apply). */
static void load_config(VM *vm, FmtOptions *o, bool *align) {
  char dir[PATH_MAX];
  if (!getcwd(dir, sizeof dir)) return;
  for (;;) {
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s%ssema.toml", dir, strcmp(dir, "/") == 0 ? "" : "/");
    size_t len;
    int err = 0;
    char *src = reader_read_file(path, &len, &err);
    if (src) {
      size_t bad;
      Value fn = env_get(vm, "toml/decode");
      if (!utf8_valid(src, len, &bad) || memchr(src, 0, len)) {
        fprintf(stderr, "sema fmt: %s is not UTF-8 text; ignored\n", path);
      } else if (fn != UNBOUND_VAL) {
        uint32_t roots = vm_roots_mark(vm);
        Value s = str_new(vm, src, len), res;
        vm_push_root(vm, s);
        if (vm_pcall(vm, fn, 1, &s, &res) != 0) {
          Value msg = NIL_VAL;
          if (is_map(vm_error(vm))) map_get(vm_error(vm), KW(vm, "message"), &msg);
          fprintf(stderr, "sema fmt: ignoring %s: %s\n", path, is_string(msg) ? str_data(msg) : "parse error");
        } else {
          Value tab;
          if (is_anymap(res) && anymap_get(res, KW(vm, "fmt"), &tab)) {
            if (!is_map(tab)) {
              fprintf(stderr, "sema fmt: %s: fmt must be a table; ignored\n", path);
            } else {
              config_int(vm, path, tab, "width", FMT_MAX_WIDTH, &o->width);
              config_int(vm, path, tab, "indent", FMT_MAX_INDENT, &o->indent);
              Value a;
              if (map_get(tab, KW(vm, "align"), &a)) {
                if (is_bool(a))
                  *align = a == TRUE_VAL;
                else
                  fprintf(stderr, "sema fmt: %s: [fmt] align must be true or false; ignored\n", path);
              }
              MapIter it;
              Value k, v;
              map_iter_init(&it, tab);
              while (map_iter_next(&it, &k, &v)) {
                const char *name = is_kw(k) ? sym_cstr(vm, k) : "?";
                if (strcmp(name, "width") && strcmp(name, "indent") && strcmp(name, "align"))
                  fprintf(stderr, "sema fmt: %s: unknown key [fmt] %s; ignored\n", path, name);
              }
            }
          }
        }
        vm_roots_reset(vm, roots);
      }
      free(src);
      return;
    }
    char *slash = strrchr(dir, '/');
    if (!slash || strcmp(dir, "/") == 0) return;
    if (slash == dir)
      dir[1] = 0;
    else
      *slash = 0;
  }
}

/* ---- reporting ---- */

static void report_error(const char *name, const char *src, size_t len, const FmtError *err) {
  if (err->line)
    fprintf(stderr, "Error formatting %s:%u:%u: %s\n", name, err->line, err->col, err->msg);
  else
    fprintf(stderr, "Error formatting %s: %s\n", name, err->msg);
  if (err->line) cli_print_excerpt(src, len, err->line, err->col);
}

/* ---- diff: the reference's positional hunks (RULES.md §13) ----
 *
 * Line i of the old text is compared with line i of the new one, nothing
 * more (no alignment of inserted or deleted lines).  Lines are split at
 * "\n" with one trailing "\r" dropped, and a final line break does not start
 * an empty line.  The first differing line opens a hunk "@@ -L +L @@" (both
 * 1-based and equal); each differing line prints "-old" and "+new" (only
 * the side that has line i); equal lines inside the hunk print " line" while
 * they are fewer than 3 lines past the hunk's first line, and the first
 * equal line after that closes the hunk.  A file whose only change is its
 * final line break gets the two header lines and no hunk. */

typedef struct {
  const char *p;
  size_t n;
} Line;

static Line *split_lines(const char *s, size_t len, size_t *count) {
  size_t cap = 16, n = 0;
  Line *v = malloc(cap * sizeof *v);
  if (!v) fmt_oom();
  const char *p = s, *end = s + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *e = nl ? nl : end;
    if (nl && e > p && e[-1] == '\r') e--;
    if (n == cap) {
      cap *= 2;
      v = realloc(v, cap * sizeof *v);
      if (!v) fmt_oom();
    }
    v[n++] = (Line){p, (size_t)(e - p)};
    p = nl ? nl + 1 : end;
  }
  *count = n;
  return v;
}

static void diff_line(FILE *f, char tag, Line l) {
  fputc(tag, f);
  fwrite(l.p, 1, l.n, f);
  fputc('\n', f);
}

static void print_diff(FILE *f, const char *name, const char *old, size_t olen, const char *new, size_t nlen) {
  size_t na, nb;
  Line *a = split_lines(old, olen, &na), *b = split_lines(new, nlen, &nb);
  const Line none = {"", 0};
  fprintf(f, "--- %s\n+++ %s\n", name, name);
  bool in_hunk = false;
  size_t start = 0;
  for (size_t i = 0; i < na || i < nb; i++) {
    Line x = i < na ? a[i] : none, y = i < nb ? b[i] : none;
    if (x.n != y.n || memcmp(x.p, y.p, x.n) != 0) {
      if (!in_hunk) {
        in_hunk = true;
        start = i;
        fprintf(f, "@@ -%zu +%zu @@\n", i + 1, i + 1);
      }
      if (i < na) diff_line(f, '-', x);
      if (i < nb) diff_line(f, '+', y);
    } else if (in_hunk && i - start < 3) {
      diff_line(f, ' ', x);
    } else {
      in_hunk = false;
    }
  }
  free(a);
  free(b);
}

/* ---- --json: one object per file on a line of its own ---- */

/* Start B as the object of FILE: `{"file":...,` (nothing for stdin). */
static void json_open(StrBuf *b, const char *file) {
  sb_init(b);
  sb_addc(b, '{');
  if (file) {
    sb_adds(b, "\"file\":");
    cli_json_string(b, file, strlen(file));
    sb_addc(b, ',');
  }
}

static void json_result(const char *file, const char *src, size_t len, const StrBuf *out) {
  StrBuf b;
  json_open(&b, file);
  bool changed = out->len != len || (len && memcmp(out->data, src, len) != 0);
  sb_addf(&b, "\"formatted\":true,\"changed\":%s,\"source\":", changed ? "true" : "false");
  cli_json_string(&b, out->data ? out->data : "", out->len);
  sb_adds(&b, "}\n");
  fwrite(b.data, 1, b.len, stdout);
  sb_free(&b);
}

/* The error object: "error" is what the text mode prints on stderr (first
 * line), "line"/"col" are there when the error has a position. */
static void json_failure(const char *file, const char *msg, uint32_t line, uint32_t col) {
  StrBuf b;
  json_open(&b, file);
  sb_adds(&b, "\"formatted\":false,\"error\":");
  cli_json_string(&b, msg, strlen(msg));
  if (line) sb_addf(&b, ",\"line\":%u,\"col\":%u", line, col);
  sb_adds(&b, "}\n");
  fwrite(b.data, 1, b.len, stdout);
  sb_free(&b);
}

static void json_format_error(const char *file, const FmtError *err) {
  char msg[900];
  const char *name = file ? file : "stdin";
  if (err->line)
    snprintf(msg, sizeof msg, "Error formatting %s:%u:%u: %s", name, err->line, err->col, err->msg);
  else
    snprintf(msg, sizeof msg, "Error formatting %s: %s", name, err->msg);
  json_failure(file, msg, err->line, err->col);
}

/* ---- writing a file in place: a temporary file beside it, then rename ---- */

static bool write_atomic(const char *path, const char *data, size_t len) {
  char *real = realpath(path, NULL); /* replace a symlink's target, not the link */
  const char *target = real ? real : path;
  struct stat st;
  if (stat(target, &st) != 0) {
    fprintf(stderr, "error: writing %s: %s\n", path, strerror(errno));
    free(real);
    return false;
  }
  const char *slash = strrchr(target, '/');
  size_t dl = slash ? (size_t)(slash - target) + 1 : 0;
  char *tmp = malloc(dl + strlen(target) + 32);
  if (!tmp) fmt_oom();
  snprintf(tmp, dl + strlen(target) + 32, "%.*s.%s.fmt-XXXXXX", (int)dl, target, target + dl);
  int fd = mkstemp(tmp);
  bool ok = fd >= 0;
  if (ok) {
    for (size_t off = 0; ok && off < len;) {
      ssize_t w = write(fd, data + off, len - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) ok = false;
      else off += (size_t)w;
    }
    ok = ok && fchmod(fd, st.st_mode & 07777) == 0;
    if (ok && fchown(fd, st.st_uid, st.st_gid) != 0) { /* keep the owner when allowed; not an error otherwise */
    }
    ok = ok && fsync(fd) == 0;
    if (close(fd) != 0) ok = false;
    ok = ok && rename(tmp, target) == 0;
    if (!ok) {
      int e = errno;
      unlink(tmp);
      errno = e;
    }
  }
  if (!ok) fprintf(stderr, "error: writing %s: %s (the file was not changed)\n", path, strerror(errno));
  free(tmp);
  free(real);
  return ok;
}

/* ---- the command ---- */

static void fmt_usage(FILE *f) {
  fputs("usage: sema fmt [OPTIONS] [FILES...]\n"
        "Format Sema source: rewrite each file in place (only when it changes).\n"
        "  FILES           .sema files, directories (searched for *.sema), globs such as 'src/**/*.sema',\n"
        "                  or - to format standard input to standard output; none: every *.sema below .\n"
        "  --check         write nothing; name each file that would change, exit 1 if any would\n"
        "  --diff          write nothing; print the changed lines (positional hunks)\n"
        "  --json          write nothing; print one JSON object per file with its formatted text\n"
        "  --stdout        print the formatted text instead of rewriting the files\n"
        "  --width N       target line width in bytes (default 80)\n"
        "  --indent N      spaces per nesting level (default 2)\n"
        "  --align         align define groups, cond clauses and let bindings in columns\n"
        "  -h, --help      this help\n"
        "Defaults come from [fmt] width/indent/align in the first sema.toml found from the\n"
        "current directory upward; flags override it.  See docs/fmt.md.\n",
        f);
}

static bool parse_count(const char *s, size_t max, size_t *out) {
  if (!*s) return false;
  size_t v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9') return false;
    v = v * 10 + (size_t)(*p - '0');
    if (v > max) return false;
  }
  *out = v;
  return true;
}

static bool same_text(const char *a, size_t alen, const StrBuf *b) {
  return alen == b->len && (alen == 0 || memcmp(a, b->data, alen) == 0);
}

int cli_fmt_command(int argc, char **argv) {
  bool check = false, diff = false, to_stdout = false, align_flag = false, json = false;
  bool width_set = false, indent_set = false;
  size_t width = 0, indent = 0;
  PathList args = {0};
  bool only_files = false;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (only_files || a[0] != '-' || strcmp(a, "-") == 0) {
      pl_add(&args, a);
    } else if (strcmp(a, "--") == 0) {
      only_files = true;
    } else if (strcmp(a, "--check") == 0) {
      check = true;
    } else if (strcmp(a, "--diff") == 0) {
      diff = true;
    } else if (strcmp(a, "--json") == 0) {
      json = true;
    } else if (strcmp(a, "--stdout") == 0) {
      to_stdout = true;
    } else if (strcmp(a, "--align") == 0) {
      align_flag = true;
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fmt_usage(stdout);
      pl_free(&args);
      return 0;
    } else if (strncmp(a, "--width", 7) == 0 || strncmp(a, "--indent", 8) == 0) {
      bool w = a[2] == 'w';
      size_t nlen = w ? 7 : 8, max = w ? FMT_MAX_WIDTH : FMT_MAX_INDENT;
      const char *val = NULL;
      if (a[nlen] == '=')
        val = a + nlen + 1;
      else if (a[nlen] == 0 && i + 1 < argc)
        val = argv[++i];
      else if (a[nlen] != 0) {
        fprintf(stderr, "sema fmt: unknown option %s\n", a);
        fmt_usage(stderr);
        pl_free(&args);
        return 2;
      }
      if (!val || !parse_count(val, max, w ? &width : &indent)) {
        fprintf(stderr, "sema fmt: %s needs an integer from 0 to %zu\n", w ? "--width" : "--indent", max);
        pl_free(&args);
        return 2;
      }
      if (w)
        width_set = true;
      else
        indent_set = true;
    } else {
      fprintf(stderr, "sema fmt: unknown option %s\n", a);
      fmt_usage(stderr);
      pl_free(&args);
      return 2;
    }
  }
  bool use_stdin = false;
  for (size_t k = 0; k < args.n; k++)
    if (strcmp(args.v[k], "-") == 0) use_stdin = true;
  if (use_stdin && args.n != 1) {
    fprintf(stderr, "sema fmt: - (standard input) cannot be combined with files\n");
    pl_free(&args);
    return 2;
  }

  VM *vm = boot_vm_new(); /* booted: the config file is read with toml/decode */
  FmtOptions opt;
  fmt_default_options(&opt);
  bool align_cfg = false;
  load_config(vm, &opt, &align_cfg);
  if (width_set) opt.width = width;
  if (indent_set) opt.indent = indent;
  opt.align = align_flag || align_cfg;
  /* --json writes nothing and never fails for a changed file: it reports */
  Mode mode = json ? MODE_JSON : check ? MODE_CHECK : diff ? MODE_DIFF : to_stdout ? MODE_STDOUT : MODE_WRITE;
  int rc = 0;

  if (use_stdin) {
    size_t len = 0;
    char *src = cli_read_stdin(&len);
    if (ferror(stdin)) {
      char msg[300];
      snprintf(msg, sizeof msg, "Error formatting stdin: cannot read standard input: %s", strerror(errno));
      free(src);
      if (mode == MODE_JSON)
        json_failure(NULL, msg, 0, 0);
      else
        fprintf(stderr, "%s\n", msg);
      rc = 1;
    } else {
      StrBuf out;
      sb_init(&out);
      FmtError err;
      if (fmt_format(vm, src, len, &opt, &out, &err) != FMT_OK) {
        if (mode == MODE_JSON)
          json_format_error(NULL, &err);
        else
          report_error("stdin", src, len, &err);
        rc = 1;
      } else if (mode == MODE_JSON) {
        json_result(NULL, src, len, &out);
      } else {
        /* RULES.md §13: with `-`, --check and --diff are ignored: the
         * formatted text goes to stdout and the status is 0 (an editor pipes
         * its buffer through `sema fmt --check -` and gets the text back) */
        fwrite(out.data ? out.data : "", 1, out.len, stdout);
      }
      sb_free(&out);
      free(src);
    }
    fflush(stdout);
    vm_free(vm);
    pl_free(&args);
    return rc;
  }

  PathList files = {0};
  if (args.n == 0) walk(".", NULL, &files, 0);
  for (size_t k = 0; k < args.n; k++) {
    struct stat st;
    if (has_glob_chars(args.v[k]) && stat(args.v[k], &st) != 0)
      expand_glob(args.v[k], &files);
    else if (stat(args.v[k], &st) == 0 && S_ISDIR(st.st_mode))
      walk(args.v[k], NULL, &files, 0);
    else
      pl_add(&files, args.v[k]);
  }
  if (files.n == 0) {
    printf("No .sema files found\n");
    vm_free(vm);
    pl_free(&args);
    pl_free(&files);
    return 0;
  }
  size_t nchanged = 0, nerrors = 0, nok = 0;
  for (size_t k = 0; k < files.n; k++) {
    const char *path = files.v[k];
    size_t len;
    int err_no = 0;
    char *src = reader_read_file(path, &len, &err_no);
    if (!src) {
      char msg[PATH_MAX + 300];
      if (err_no == ENOENT)
        snprintf(msg, sizeof msg, "file not found: %s", path);
      else if (err_no == EACCES)
        snprintf(msg, sizeof msg, "permission denied: %s", path);
      else
        snprintf(msg, sizeof msg, "reading %s: %s", path, strerror(err_no));
      if (mode == MODE_JSON)
        json_failure(path, msg, 0, 0);
      else
        fprintf(stderr, "error: %s\n", msg);
      nerrors++;
      continue;
    }
    StrBuf out;
    sb_init(&out);
    FmtError err;
    if (fmt_format(vm, src, len, &opt, &out, &err) != FMT_OK) {
      if (mode == MODE_JSON)
        json_format_error(path, &err);
      else
        report_error(path, src, len, &err);
      nerrors++;
    } else {
      nok++;
      bool changed = !same_text(src, len, &out);
      switch (mode) {
      case MODE_CHECK:
        /* --check takes precedence over --diff (RULES.md §13) */
        if (changed) printf("Would reformat: %s\n", path);
        break;
      case MODE_DIFF:
        if (changed) print_diff(stdout, path, src, len, out.data, out.len);
        break;
      case MODE_STDOUT: fwrite(out.data ? out.data : "", 1, out.len, stdout); break;
      case MODE_JSON: json_result(path, src, len, &out); break;
      case MODE_WRITE:
        if (changed) {
          if (write_atomic(path, out.data ? out.data : "", out.len))
            printf("Formatted: %s\n", path);
          else {
            nerrors++;
            changed = false;
          }
        }
        break;
      }
      nchanged += changed;
    }
    sb_free(&out);
    free(src);
    fflush(stdout);
  }
  /* The summary, on stdout (RULES.md §13; the reference's texts, with its
   * blank line before a summary that follows a list of changes).  --stdout
   * prints only the formatted text; --json ends with a plain line. */
  if (mode == MODE_CHECK) {
    if (nchanged)
      printf("\n%zu file(s) would be reformatted, %zu file(s) checked\n", nchanged, nok);
    else
      printf("%zu file(s) already formatted\n", nok);
    if (nchanged) rc = 1;
  } else if (mode == MODE_DIFF) {
    printf("\n%zu file(s) would change, %zu file(s) checked\n", nchanged, nok);
  } else if (mode == MODE_JSON) {
    printf("%zu file(s) would change, %zu file(s) checked\n", nchanged, nok);
  } else if (mode == MODE_WRITE) {
    if (nchanged)
      printf("\n%zu file(s) formatted, %zu file(s) unchanged\n", nchanged, nok - nchanged);
    else
      printf("%zu file(s) already formatted\n", nok);
  }
  if (nerrors) {
    fprintf(stderr, "%zu error(s)\n", nerrors);
    rc = 1;
  }
  fflush(stdout);
  vm_free(vm);
  pl_free(&args);
  pl_free(&files);
  return rc;
}
