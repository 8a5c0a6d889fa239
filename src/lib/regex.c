/* regex.c - regular expressions (stdlib.md §15) on PCRE2.
 *
 * Patterns are plain strings (a #"..." literal reads as a string).  The
 * reference semantics are those of Rust's `regex` crate; PCRE2 is configured
 * to agree with them where it matters: UTF + UCP, `$` only at the very end
 * (DOLLAR_ENDONLY), `\n` as the only newline, `(?m)^` also matching after a
 * final newline (ALT_CIRCUMFLEX), no `\C` (matches always on character
 * boundaries).  A small pre-pass rewrites the Rust-only syntax PCRE lacks:
 * `\u{..}` `\uXXXX` `\U{..}` `\UXXXXXXXX` code points, `\v` (a vertical tab in
 * Rust, a class in PCRE), ASCII-only POSIX classes `[[:alpha:]]`, and the
 * word-boundary assertions `\<` `\>` `\b{start}` `\b{end}` `\b{start-half}`
 * `\b{end-half}`.  Lookaround, backreferences etc. are accepted (allowed
 * divergence).
 *
 * Compiled patterns (JIT when available) live in a small per-thread cache
 * keyed by the pattern text, so a literal in a loop compiles once.
 *
 * Iteration (find-all, replace-all, split) follows Rust: after a match
 * ending at p the next search starts at p, and an empty match ending where
 * the previous match ended is skipped by searching again one character
 * further on. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include "lib.h"

/* ---- compiled-pattern cache ---- */

typedef struct {
  char *pat; /* NULL: empty slot */
  size_t len;
  uint32_t hash;
  uint32_t ncap;
  uint64_t used;
  pcre2_code *code;
  pcre2_match_data *md;
} RxEntry;

#define RX_SLOTS 64 /* power of two */
#define RX_PROBE 4  /* set size: an entry lives in one of 4 consecutive slots */

static _Thread_local RxEntry rx_cache[RX_SLOTS];
static _Thread_local uint64_t rx_tick;
static _Thread_local pcre2_compile_context *rx_cctx;
static _Thread_local pcre2_match_context *rx_mctx;
static _Thread_local pcre2_jit_stack *rx_jit_stack;

static void rx_entry_free(RxEntry *e) {
  free(e->pat);
  pcre2_match_data_free(e->md);
  pcre2_code_free(e->code);
  memset(e, 0, sizeof *e);
}

/* The cache is per thread: a thread that ran Sema code frees it before exiting. */
void regex_thread_cleanup(void) {
  for (int i = 0; i < RX_SLOTS; i++)
    if (rx_cache[i].code) rx_entry_free(&rx_cache[i]);
  pcre2_compile_context_free(rx_cctx);
  pcre2_match_context_free(rx_mctx);
  pcre2_jit_stack_free(rx_jit_stack);
  rx_cctx = NULL;
  rx_mctx = NULL;
  rx_jit_stack = NULL;
}

/* ---- Rust syntax -> PCRE syntax ---- */

static bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

typedef struct {
  StrBuf out;
  size_t *map; /* output byte -> pattern byte, for error offsets */
  size_t mapcap;
} Tr;

static void tr_add(Tr *t, const char *s, size_t n, size_t src) {
  if (t->out.len + n > t->mapcap) {
    size_t nc = t->mapcap ? t->mapcap * 2 : 64;
    while (nc < t->out.len + n) nc *= 2;
    t->map = realloc(t->map, nc * sizeof *t->map);
    if (!t->map) abort();
    t->mapcap = nc;
  }
  for (size_t i = 0; i < n; i++) t->map[t->out.len + i] = src;
  sb_add(&t->out, s, n);
}
static void tr_adds(Tr *t, const char *s, size_t src) { tr_add(t, s, strlen(s), src); }

/* Rust's POSIX classes are ASCII-only: inclusive ranges, up to 4. */
static const struct {
  const char *name;
  unsigned char r[8];
  int n;
} posix_classes[] = {
    {"alnum", {'0', '9', 'A', 'Z', 'a', 'z'}, 3},
    {"alpha", {'A', 'Z', 'a', 'z'}, 2},
    {"ascii", {0, 0x7F}, 1},
    {"blank", {'\t', '\t', ' ', ' '}, 2},
    {"cntrl", {0, 0x1F, 0x7F, 0x7F}, 2},
    {"digit", {'0', '9'}, 1},
    {"graph", {'!', '~'}, 1},
    {"lower", {'a', 'z'}, 1},
    {"print", {' ', '~'}, 1},
    {"punct", {'!', '/', ':', '@', '[', '`', '{', '~'}, 4},
    {"space", {'\t', '\r', ' ', ' '}, 2},
    {"upper", {'A', 'Z'}, 1},
    {"word", {'0', '9', 'A', 'Z', '_', '_', 'a', 'z'}, 4},
    {"xdigit", {'0', '9', 'A', 'F', 'a', 'f'}, 3},
    {NULL, {0}, 0},
};

static void tr_range(Tr *t, unsigned lo, unsigned hi, size_t src) {
  char buf[40];
  if (lo == hi) snprintf(buf, sizeof buf, "\\x{%x}", lo);
  else snprintf(buf, sizeof buf, "\\x{%x}-\\x{%x}", lo, hi);
  tr_adds(t, buf, src);
}

/* At p[i] == '[' inside a class: a POSIX class "[:name:]" or "[:^name:]"?
 * Emits its ASCII ranges and returns the length consumed, else 0. */
static size_t tr_posix(Tr *t, const char *p, size_t n, size_t i) {
  if (i + 1 >= n || p[i + 1] != ':') return 0;
  size_t j = i + 2;
  bool neg = j < n && p[j] == '^';
  if (neg) j++;
  size_t name = j;
  while (j < n && p[j] >= 'a' && p[j] <= 'z') j++;
  if (j + 1 >= n || p[j] != ':' || p[j + 1] != ']') return 0;
  for (int k = 0; posix_classes[k].name; k++) {
    const char *nm = posix_classes[k].name;
    if (strlen(nm) != j - name || memcmp(nm, p + name, j - name) != 0) continue;
    bool in[128] = {false};
    for (int m = 0; m < posix_classes[k].n; m++)
      for (unsigned c = posix_classes[k].r[2 * m]; c <= posix_classes[k].r[2 * m + 1]; c++) in[c] = true;
    for (unsigned c = 0; c < 128;) {
      if (in[c] == neg) {
        c++;
        continue;
      }
      unsigned lo = c;
      while (c < 128 && in[c] != neg) c++;
      tr_range(t, lo, neg && c == 128 ? 0x10FFFF : c - 1, i);
    }
    if (neg && in[127]) tr_range(t, 0x80, 0x10FFFF, i);
    return j + 2 - i;
  }
  return 0;
}

/* At p[i] == '\\' and p[i+1] in "uU": a Rust code point escape?  Emits
 * \x{..} and returns the length consumed, else 0. */
static size_t tr_codepoint(Tr *t, const char *p, size_t n, size_t i) {
  size_t j = i + 2, start, end;
  if (j < n && p[j] == '{') {
    start = ++j;
    while (j < n && is_hex(p[j])) j++;
    if (j >= n || p[j] != '}' || j == start) return 0;
    end = j++;
  } else {
    size_t want = p[i + 1] == 'u' ? 4 : 8;
    start = j;
    while (j < n && j - start < want && is_hex(p[j])) j++;
    if (j - start != want) return 0;
    end = j;
  }
  tr_adds(t, "\\x{", i);
  tr_add(t, p + start, end - start, i);
  tr_adds(t, "}", i);
  return j - i;
}

/* Rewrite PATTERN into t->out; returns false (nothing emitted) when no
 * rewriting is needed. */
static bool translate(Tr *t, const char *p, size_t n) {
  bool need = false;
  for (size_t i = 0; i + 1 < n; i++) {
    if ((p[i] == '\\' && strchr("uUv<>b", p[i + 1])) || (p[i] == '[' && p[i + 1] == ':')) {
      need = true;
      break;
    }
  }
  if (!need) return false;
  sb_init(&t->out);
  t->map = NULL;
  t->mapcap = 0;
  bool in_class = false;
  size_t i = 0;
  while (i < n) {
    char c = p[i];
    if (c == '\\' && i + 1 < n) {
      char d = p[i + 1];
      size_t k = 0;
      if (d == 'u' || d == 'U') k = tr_codepoint(t, p, n, i);
      else if (d == 'v') {
        tr_adds(t, "\\x{b}", i);
        k = 2;
      } else if (!in_class && (d == '<' || d == '>')) {
        tr_adds(t, d == '<' ? "(?:\\b(?=\\w))" : "(?:\\b(?<=\\w))", i);
        k = 2;
      } else if (!in_class && d == 'b' && i + 2 < n && p[i + 2] == '{') {
        static const char *const names[] = {"{start}", "{end}", "{start-half}", "{end-half}"};
        static const char *const repl[] = {"(?:\\b(?=\\w))", "(?:\\b(?<=\\w))", "(?<!\\w)", "(?!\\w)"};
        for (int m = 0; m < 4 && !k; m++) {
          size_t l = strlen(names[m]);
          if (n - (i + 2) >= l && memcmp(p + i + 2, names[m], l) == 0) {
            tr_adds(t, repl[m], i);
            k = 2 + l;
          }
        }
      }
      if (!k) {
        /* copy the escape and the (whole UTF-8) character after it */
        k = 2;
        while (i + k < n && ((unsigned char)p[i + k] & 0xC0) == 0x80) k++;
        tr_add(t, p + i, k, i);
      }
      i += k;
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      size_t j = i + 1;
      if (j < n && p[j] == '^') j++;
      if (j < n && p[j] == ']') j++; /* a leading ] is literal */
      tr_add(t, p + i, j - i, i);
      i = j;
      continue;
    }
    if (in_class && c == '[') {
      size_t k = tr_posix(t, p, n, i);
      if (k) {
        i += k;
        continue;
      }
    } else if (in_class && c == ']') {
      in_class = false;
    }
    tr_add(t, p + i, 1, i);
    i++;
  }
  return true;
}

/* ---- compiling ---- */

static void rx_contexts(void) {
  if (rx_cctx) return;
  rx_cctx = pcre2_compile_context_create(NULL);
  rx_mctx = pcre2_match_context_create(NULL);
  if (!rx_cctx || !rx_mctx) abort();
  pcre2_set_newline(rx_cctx, PCRE2_NEWLINE_LF);
  rx_jit_stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
  if (rx_jit_stack) pcre2_jit_stack_assign(rx_mctx, NULL, rx_jit_stack);
}

static RxEntry *rx_get(VM *vm, Value pat) {
  if (!is_string(pat)) err_type(vm, "string", pat);
  const char *p = str_data(pat);
  size_t n = str_len(pat);
  uint32_t h = str_hash(pat);
  RxEntry *victim = NULL;
  for (unsigned k = 0; k < RX_PROBE; k++) {
    RxEntry *e = &rx_cache[(h + k) & (RX_SLOTS - 1)];
    if (e->pat && e->hash == h && e->len == n && memcmp(e->pat, p, n) == 0) {
      e->used = ++rx_tick;
      return e;
    }
    if (!victim || (victim->pat && (!e->pat || e->used < victim->used))) victim = e;
  }

  rx_contexts();
  Tr t;
  bool tr = translate(&t, p, n);
  const char *src = tr ? t.out.data : p;
  size_t srclen = tr ? t.out.len : n;
  int errcode;
  PCRE2_SIZE erroff;
  uint32_t opts = PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_CIRCUMFLEX |
                  PCRE2_NEVER_BACKSLASH_C;
  pcre2_code *code = pcre2_compile((PCRE2_SPTR)(src ? src : ""), srclen, opts, &errcode, &erroff, rx_cctx);
  if (!code) {
    PCRE2_UCHAR msg[256];
    if (pcre2_get_error_message(errcode, msg, sizeof msg) < 0) strcpy((char *)msg, "unknown error");
    size_t off = erroff;
    if (tr) {
      off = erroff < t.out.len ? t.map[erroff] : n;
      sb_free(&t.out);
      free(t.map);
    }
    err_eval(vm, "invalid regex pattern: %s at offset %zu", (char *)msg, off);
  }
  if (tr) {
    sb_free(&t.out);
    free(t.map);
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* failure: the interpreter is used */
  pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
  char *copy = malloc(n ? n : 1);
  if (!md || !copy) abort();
  memcpy(copy, p, n);
  uint32_t ncap = 0;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &ncap);
  if (victim->pat) rx_entry_free(victim);
  victim->pat = copy;
  victim->len = n;
  victim->hash = h;
  victim->ncap = ncap;
  victim->used = ++rx_tick;
  victim->code = code;
  victim->md = md;
  return victim;
}

/* ---- matching ---- */

static NORETURN void rx_fail(VM *vm, int rc) {
  PCRE2_UCHAR msg[256];
  if (pcre2_get_error_message(rc, msg, sizeof msg) < 0) strcpy((char *)msg, "unknown error");
  err_eval(vm, "regex match error: %s", (char *)msg);
}

/* Search S from byte AT (a character boundary).  >0: match (ovector in
 * e->md); 0: no match; <0: PCRE2 error code. */
static int rx_exec(RxEntry *e, const char *s, size_t len, size_t at) {
  int rc = pcre2_match(e->code, (PCRE2_SPTR)(s ? s : ""), len, at, PCRE2_NO_UTF_CHECK, e->md, rx_mctx);
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
    rc = pcre2_match(e->code, (PCRE2_SPTR)(s ? s : ""), len, at, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, e->md, rx_mctx);
  if (rc == PCRE2_ERROR_NOMATCH) return 0;
  if (rc == 0) rc = 1; /* ovector too small: cannot happen (sized from the pattern) */
  if (rc > 0) {
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(e->md);
    if (ov[0] > ov[1]) ov[0] = ov[1]; /* \K in a lookahead; disallowed by default */
  }
  return rc;
}

typedef struct {
  size_t pos;      /* where the next search starts; > len when done */
  size_t last_end; /* end of the previous match */
  bool has_last;
} RxIter;

/* Next non-overlapping match with Rust's rule for empty matches.
 * >0: match at ovector[0..1]; 0: none; <0: error. */
static int rx_next(RxEntry *e, const char *s, size_t len, RxIter *it) {
  if (it->pos > len) return 0;
  int rc = rx_exec(e, s, len, it->pos);
  if (rc <= 0) {
    it->pos = len + 1;
    return rc;
  }
  PCRE2_SIZE *ov = pcre2_get_ovector_pointer(e->md);
  if (ov[0] == ov[1] && it->has_last && ov[1] == it->last_end) {
    size_t at = it->pos;
    if (at >= len) {
      it->pos = len + 1;
      return 0;
    }
    at++;
    while (at < len && ((unsigned char)s[at] & 0xC0) == 0x80) at++;
    rc = rx_exec(e, s, len, at);
    if (rc <= 0) {
      it->pos = len + 1;
      return rc;
    }
  }
  it->pos = ov[1];
  it->last_end = ov[1];
  it->has_last = true;
  return rc;
}

static void rx_args(VM *vm, int argc, Value *argv) {
  for (int i = 1; i < argc; i++)
    if (!is_string(argv[i])) err_type(vm, "string", argv[i]);
}

/* ---- replacement templates ($N ${N} $name ${name} $$) ---- */

static bool cap_letter(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Group number for reference NAME, or -1 (missing group). */
static long cap_index(RxEntry *e, const char *name, size_t n) {
  /* a number as Rust's usize::from_str reads it: optional '+', digits */
  size_t i = (n > 0 && name[0] == '+') ? 1 : 0;
  if (i < n) {
    size_t j = i;
    uint64_t v = 0;
    bool ovf = false;
    while (j < n && name[j] >= '0' && name[j] <= '9') {
      if (v > (UINT64_MAX - 9) / 10) ovf = true;
      v = v * 10 + (uint64_t)(name[j] - '0');
      j++;
    }
    if (j == n) return (!ovf && v <= e->ncap) ? (long)v : -1;
  }
  if (n == 0 || n > 255 || memchr(name, 0, n)) return -1;
  char buf[256];
  memcpy(buf, name, n);
  buf[n] = 0;
  int k = pcre2_substring_number_from_name(e->code, (PCRE2_SPTR)buf);
  return k > 0 ? k : -1;
}

static void add_group(StrBuf *b, RxEntry *e, const char *s, long g, int rc) {
  if (g < 0 || g >= rc) return;
  PCRE2_SIZE *ov = pcre2_get_ovector_pointer(e->md);
  if (ov[2 * g] == PCRE2_UNSET) return;
  sb_add(b, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
}

static void expand(StrBuf *b, RxEntry *e, const char *s, int rc, const char *r, size_t rn) {
  size_t i = 0;
  while (i < rn) {
    const char *d = memchr(r + i, '$', rn - i);
    if (!d) break;
    size_t k = (size_t)(d - r);
    sb_add(b, r + i, k - i);
    i = k;
    if (i + 1 < rn && r[i + 1] == '$') {
      sb_addc(b, '$');
      i += 2;
      continue;
    }
    if (i + 1 < rn && r[i + 1] == '{') {
      const char *close = memchr(r + i + 2, '}', rn - (i + 2));
      if (close) {
        size_t ns = i + 2, ne = (size_t)(close - r);
        add_group(b, e, s, cap_index(e, r + ns, ne - ns), rc);
        i = ne + 1;
        continue;
      }
    } else {
      size_t j = i + 1;
      while (j < rn && cap_letter(r[j])) j++;
      if (j > i + 1) {
        add_group(b, e, s, cap_index(e, r + i + 1, j - (i + 1)), rc);
        i = j;
        continue;
      }
    }
    sb_addc(b, '$'); /* a lone $ is literal */
    i++;
  }
  sb_add(b, r + i, rn - i);
}

static Value replace(VM *vm, Value *argv, bool all) {
  RxEntry *e = rx_get(vm, argv[0]);
  rx_args(vm, 3, argv);
  const char *r = str_data(argv[1]), *s = str_data(argv[2]);
  size_t rn = str_len(argv[1]), len = str_len(argv[2]);
  StrBuf b;
  sb_init_vm(&b, vm);
  RxIter it = {0, 0, false};
  size_t last = 0;
  int rc;
  while ((rc = rx_next(e, s, len, &it)) > 0) {
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(e->md);
    sb_add(&b, s + last, ov[0] - last);
    expand(&b, e, s, rc, r, rn);
    last = ov[1];
    if (!all) break;
  }
  if (rc < 0) {
    sb_free(&b);
    rx_fail(vm, rc);
  }
  if (!it.has_last) {
    sb_free(&b);
    return argv[2]; /* no match: the text itself */
  }
  sb_add(&b, s + last, len - last);
  return sb_to_string(vm, &b);
}

/* ---- natives ---- */

static Value n_match_p(VM *vm, int argc, Value *argv) {
  RxEntry *e = rx_get(vm, argv[0]);
  rx_args(vm, argc, argv);
  const char *s = str_data(argv[1]);
  size_t len = str_len(argv[1]);
  int rc = rx_exec(e, s, len, 0);
  if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT) {
    /* catastrophic backtracking: the automaton answers yes/no without it */
    int ws[1000];
    int r = pcre2_dfa_match(e->code, (PCRE2_SPTR)(s ? s : ""), len, 0, PCRE2_NO_UTF_CHECK, e->md, rx_mctx, ws, 1000);
    if (r == PCRE2_ERROR_NOMATCH) return FALSE_VAL;
    if (r >= 0) return TRUE_VAL;
  }
  if (rc < 0) rx_fail(vm, rc);
  return rc > 0 ? TRUE_VAL : FALSE_VAL;
}

static Value n_match(VM *vm, int argc, Value *argv) {
  RxEntry *e = rx_get(vm, argv[0]);
  rx_args(vm, argc, argv);
  const char *s = str_data(argv[1]);
  int rc = rx_exec(e, s, str_len(argv[1]), 0);
  if (rc < 0) rx_fail(vm, rc);
  if (rc == 0) return NIL_VAL;
  /* no collection happens until we return: values need no rooting */
  PCRE2_SIZE *ov = pcre2_get_ovector_pointer(e->md);
  ListBuilder groups;
  list_start(&groups);
  for (uint32_t g = 1; g <= e->ncap; g++) {
    bool set = (int)g < rc && ov[2 * g] != PCRE2_UNSET;
    list_add(vm, &groups, set ? str_new(vm, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]) : NIL_VAL);
  }
  Value m = map_empty(vm);
  m = map_assoc(vm, m, KW(vm, "end"), num_int(vm, (int64_t)ov[1]));
  m = map_assoc(vm, m, KW(vm, "groups"), groups.head);
  m = map_assoc(vm, m, KW(vm, "match"), str_new(vm, s + ov[0], ov[1] - ov[0]));
  m = map_assoc(vm, m, KW(vm, "start"), num_int(vm, (int64_t)ov[0]));
  return m;
}

static Value n_find_all(VM *vm, int argc, Value *argv) {
  RxEntry *e = rx_get(vm, argv[0]);
  rx_args(vm, argc, argv);
  const char *s = str_data(argv[1]);
  size_t len = str_len(argv[1]);
  ListBuilder lb;
  list_start(&lb);
  RxIter it = {0, 0, false};
  int rc;
  while ((rc = rx_next(e, s, len, &it)) > 0) {
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(e->md);
    list_add(vm, &lb, str_new(vm, s + ov[0], ov[1] - ov[0]));
  }
  if (rc < 0) rx_fail(vm, rc);
  return lb.head;
}

static Value n_replace(VM *vm, int argc, Value *argv) {
  return replace(vm, argv, false);
}

static Value n_replace_all(VM *vm, int argc, Value *argv) {
  return replace(vm, argv, true);
}

static Value n_split(VM *vm, int argc, Value *argv) {
  RxEntry *e = rx_get(vm, argv[0]);
  rx_args(vm, argc, argv);
  const char *s = str_data(argv[1]);
  size_t len = str_len(argv[1]);
  ListBuilder lb;
  list_start(&lb);
  RxIter it = {0, 0, false};
  size_t last = 0;
  int rc;
  while ((rc = rx_next(e, s, len, &it)) > 0) {
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(e->md);
    list_add(vm, &lb, str_new(vm, s + last, ov[0] - last));
    last = ov[1];
  }
  if (rc < 0) rx_fail(vm, rc);
  list_add(vm, &lb, str_new(vm, s + last, len - last));
  return lb.head;
}

static const NativeDef defs[] = {
    {"regex/match?", n_match_p, 2, 2,
     "(regex/match? pattern s)\nReturns #t when the regular expression pattern (a string, PCRE2 syntax) matches "
     "anywhere in s; anchor with ^...$ for a whole-string test."},
    {"regex/match", n_match, 2, 2,
     "(regex/match pattern s)\nReturns the first match of pattern in s as {:match text :groups (group1...) :start S "
     ":end E}, with byte offsets and nil for a group that did not take part; nil when there is no match."},
    {"regex/find-all", n_find_all, 2, 2,
     "(regex/find-all pattern s)\nReturns the list of the texts of all the matches of pattern in s: (regex/find-all "
     "\"\\\\d+\" \"a1b22\") is (\"1\" \"22\")."},
    {"regex/replace", n_replace, 3, 3,
     "(regex/replace pattern replacement s)\nReplaces the first match of pattern in s (the text comes last) by "
     "replacement, in which $N and ${N} insert group N ($0 the whole match), $name a named group and $$ a dollar "
     "sign."},
    {"regex/replace-all", n_replace_all, 3, 3,
     "(regex/replace-all pattern replacement s)\nReplaces every match of pattern in s by replacement, with the group "
     "references of regex/replace."},
    {"regex/split", n_split, 2, 2,
     "(regex/split pattern s)\nReturns the texts between the matches of pattern in s, empty leading and trailing "
     "pieces included."},
    {NULL, NULL, 0, 0},
};

void lib_regex_init(VM *vm) { env_register(vm, defs); }
