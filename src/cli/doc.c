/* doc.c - `sema doc`: the documentation in the binary.
 *
 *   sema doc NAME...            signature, kind and description of each NAME
 *   sema doc --search WORD...   names whose name or docstring contains every WORD
 *   sema doc --load FILE NAME   the same after running FILE (its docstrings)
 *   sema doc --markdown         the reference, docs/reference.md (tools/gen-reference.sh)
 *   sema doc --undocumented     names bound at start-up without a well-formed
 *                               docstring; status 1 if there is one (the test command)
 *
 * What a name's doc is comes from the library (src/lib/doc.c); this file
 * only lists names and prints.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "../boot.h"
#include "../reader.h"
#include "../runtime.h"
#include "../lib/doc.h"
#include "cli.h"

static void usage(FILE *f) {
  fprintf(f, "usage: sema doc NAME...\n"
             "       sema doc --search WORD...\n"
             "       sema doc --load FILE NAME...\n"
             "       sema doc --markdown | --undocumented\n");
}

/* ---- the names, grouped by the part of the start-up that bound them ---- */

#define MAX_PARTS 64

typedef struct {
  const char *part[MAX_PARTS];
  uint32_t nparts;
  uint8_t *owner; /* per global cell: part index + 1, 0 = not yet bound */
  uint32_t cap;
} Parts;

static void trace_part(VM *vm, const char *part, void *ud) {
  Parts *p = ud;
  if (p->nparts == MAX_PARTS) return;
  if (vm->nglobals > p->cap) {
    uint32_t cap = vm->nglobals * 2;
    p->owner = realloc(p->owner, cap);
    if (!p->owner) abort();
    memset(p->owner + p->cap, 0, cap - p->cap);
    p->cap = cap;
  }
  p->part[p->nparts++] = part;
  for (uint32_t i = 0; i < vm->nglobals; i++)
    if (!p->owner[i] && (vm->globals[i].value != UNBOUND_VAL || (vm->globals[i].flags & CELL_LAZY)))
      p->owner[i] = (uint8_t)p->nparts;
}

/* A global a program can name and that exists from the start (eval, also a
 * special form, is listed with the special forms). */
static bool listed(VM *vm, uint32_t i) {
  GlobalCell *g = &vm->globals[i];
  return i < vm->first_user_global && g->value != UNBOUND_VAL && sym_cstr(vm, g->name)[0] != ' ' &&
         !analyze_is_special(vm, g->name);
}

static const struct {
  const char *part, *title;
} titles[] = {
    {"core", "Core: arithmetic, lists, strings, output"},
    {"math", "Arithmetic and math"},
    {"listlib", "Lists and sequences"},
    {"maplib", "Maps and hash maps"},
    {"strlib", "Strings and characters"},
    {"io", "Input, output, files and paths"},
    {"meta", "Assertions, timing and debugging"},
    {"regex", "Regular expressions"},
    {"json", "JSON"},
    {"csv", "CSV"},
    {"bytevec", "Bytevectors"},
    {"encoding", "Encoding and hashing"},
    {"system", "System and process"},
    {"datetime", "Date and time"},
    {"toml", "TOML"},
    {"typedarray", "Typed arrays"},
    {"stream", "Streams"},
    {"context", "Ambient context"},
    {"term", "Terminal styling and control"},
    {"async", "Async tasks and channels"},
    {"compat", "Compatibility: text, PIO and signals"},
    {"http", "HTTP client and server"},
    {"kv", "Key-value store"},
    {"db", "SQLite"},
    {"doc", "Documentation"},
    {"helpers", "Internal helpers of compiled code"},
    {"prelude", "Prelude macros"},
};

static const char *title_of(const char *part) {
  for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++)
    if (strcmp(titles[i].part, part) == 0) return titles[i].title;
  return part;
}

static int by_name(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* ---- markdown ---- */

static void md_text(StrBuf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (strchr("\\`*_<>[]|", s[i])) sb_addc(b, '\\');
    sb_addc(b, s[i] == '\n' ? ' ' : s[i]);
  }
}

static void md_entry(VM *vm, StrBuf *b, Value sym) {
  DocEntry e;
  if (!doc_lookup(vm, sym, &e)) return;
  sb_addf(b, "### `%s`\n\n`%s` · %s", sym_cstr(vm, sym), str_data(e.sig), e.kind);
  if (is_sym(e.alias_of)) {
    sb_addf(b, ", another name for `%s`\n\n", sym_cstr(vm, e.alias_of));
    return;
  }
  sb_adds(b, "\n\n");
  if (is_string(e.desc)) md_text(b, str_data(e.desc), str_len(e.desc));
  sb_adds(b, "\n\n");
}

static void md_section(VM *vm, StrBuf *b, const char *title, const char **names, size_t n) {
  sb_addf(b, "## %s\n\n", title);
  qsort(names, n, sizeof *names, by_name);
  for (size_t i = 0; i < n; i++) md_entry(vm, b, SYM(vm, names[i]));
}

static void anchor(StrBuf *b, const char *title) {
  /* GitHub's heading anchors: lower case, spaces to '-', other punctuation dropped */
  for (const char *p = title; *p; p++) {
    if (isalnum((unsigned char)*p) || *p == '-' || *p == '_')
      sb_addc(b, (char)tolower((unsigned char)*p));
    else if (*p == ' ')
      sb_addc(b, '-');
  }
}

static int markdown(void) {
  Parts p = {.nparts = 0};
  VM *vm = boot_vm_new_traced(trace_part, &p);
  env_force_all(vm); /* the prelude's macros, compiled on first use otherwise */
  size_t nsf = analyze_special_count();
  const char **names = malloc((vm->nglobals + nsf + 1) * sizeof *names);
  if (!names) abort();
  size_t total = nsf;
  for (uint32_t i = 0; i < vm->nglobals; i++) total += listed(vm, i);
  StrBuf b;
  sb_init(&b);
  sb_addf(&b, "# Sema reference\n\n"
              "Every name bound when a program starts: %zu names (special forms, builtins,\n"
              "prelude macros and constants), grouped by the library module that defines them.\n"
              "Generated from the docstrings in the binary by `sema doc --markdown`\n"
              "(tools/gen-reference.sh); do not edit by hand. `sema doc NAME` prints one entry,\n"
              "`sema doc --search WORD` finds names. The contract is the Sema specification\n"
              "(language.md, stdlib.md, net.md, async.md).\n\n",
          total);
  sb_addf(&b, "## Contents\n\n- [Special forms](#special-forms) (%zu)\n", nsf);
  for (uint32_t k = 0; k < p.nparts; k++) {
    size_t n = 0;
    for (uint32_t i = 0; i < vm->nglobals; i++) n += listed(vm, i) && p.owner[i] == k + 1;
    if (!n) continue;
    sb_addf(&b, "- [%s](#", title_of(p.part[k]));
    anchor(&b, title_of(p.part[k]));
    sb_addf(&b, ") (%zu)\n", n);
  }
  sb_addc(&b, '\n');
  for (size_t i = 0; i < nsf; i++) names[i] = analyze_special_name(i);
  md_section(vm, &b, "Special forms", names, nsf);
  for (uint32_t k = 0; k < p.nparts; k++) {
    size_t n = 0;
    for (uint32_t i = 0; i < vm->nglobals; i++)
      if (listed(vm, i) && p.owner[i] == k + 1) names[n++] = sym_cstr(vm, vm->globals[i].name);
    if (n) md_section(vm, &b, title_of(p.part[k]), names, n);
  }
  while (b.len >= 2 && b.data[b.len - 1] == '\n' && b.data[b.len - 2] == '\n') b.len--;
  fwrite(b.data, 1, b.len, stdout);
  sb_free(&b);
  free(names);
  free(p.owner);
  vm_free(vm);
  return 0;
}

/* ---- the check ---- */

/* A well-formed docstring: the signature is a call of NAME (or NAME itself for
 * a constant; alternatives joined by " or "), then one paragraph. */
static const char *malformed(VM *vm, const char *name, DocEntry *e) {
  if (!is_string(e->desc) || str_len(e->desc) == 0) return "no docstring";
  if (strchr(str_data(e->desc), '\n')) return "the description is more than one paragraph (a line break)";
  const char *sig = str_data(e->sig);
  size_t n = strlen(name);
  if (strcmp(e->kind, "constant") == 0) return strcmp(sig, name) == 0 ? NULL : "the signature line is not the name";
  if (sig[0] != '(' || strncmp(sig + 1, name, n) != 0 || (sig[n + 1] != ' ' && sig[n + 1] != ')'))
    return "the signature line does not start with (NAME";
  return NULL;
}

static int undocumented(void) {
  VM *vm = boot_vm_new();
  env_force_all(vm);
  int bad = 0;
  for (size_t i = 0; i < analyze_special_count(); i++) {
    DocEntry e;
    Value sym = SYM(vm, analyze_special_name(i));
    const char *why = doc_lookup(vm, sym, &e) ? malformed(vm, analyze_special_name(i), &e) : "unbound";
    if (why) printf("%s (special form, analyze.c): %s\n", analyze_special_name(i), why), bad++;
  }
  for (uint32_t i = 0; i < vm->nglobals; i++) {
    if (!listed(vm, i)) continue;
    const char *name = sym_cstr(vm, vm->globals[i].name);
    DocEntry e;
    if (!doc_lookup(vm, vm->globals[i].name, &e) || is_sym(e.alias_of)) continue; /* aliases: the builtin's own */
    const char *why = malformed(vm, name, &e);
    if (why) printf("%s (%s): %s\n", name, e.kind, why), bad++;
  }
  if (bad)
    fprintf(stderr, "sema doc: %d name%s without a well-formed docstring: add \"(name args...)\\nOne "
                    "paragraph.\" as the last field of its NativeDef row (special forms: analyze.c, "
                    "macros: a docstring in the defmacro), then run tools/gen-reference.sh\n",
            bad, bad == 1 ? "" : "s");
  vm_free(vm);
  return bad ? 1 : 0;
}

/* ---- search ---- */

static bool contains_ci(const char *hay, size_t n, const char *needle) {
  size_t m = strlen(needle);
  if (m == 0) return true;
  for (size_t i = 0; i + m <= n; i++)
    if (strncasecmp(hay + i, needle, m) == 0) return true;
  return false;
}

static void consider(VM *vm, Value sym, int nwords, char **words, int *found) {
  DocEntry e;
  if (!doc_lookup(vm, sym, &e)) return;
  const char *name = sym_cstr(vm, sym);
  for (int w = 0; w < nwords; w++) {
    bool in = contains_ci(name, strlen(name), words[w]) ||
              (is_string(e.desc) && contains_ci(str_data(e.desc), str_len(e.desc), words[w]));
    if (!in) return;
  }
  /* the first sentence of the description, cut to fit a line */
  char line[96] = "";
  if (is_string(e.desc)) {
    const char *d = str_data(e.desc), *stop = strstr(d, ". ");
    size_t len = stop ? (size_t)(stop - d) + 1 : str_len(e.desc);
    if (len > 70) {
      len = 67;
      while (len > 0 && ((unsigned char)d[len] & 0xC0) == 0x80) len--;
      snprintf(line, sizeof line, "%.*s...", (int)len, d);
    } else {
      snprintf(line, sizeof line, "%.*s", (int)len, d);
    }
  } else if (is_sym(e.alias_of)) {
    snprintf(line, sizeof line, "another name for %s", sym_cstr(vm, e.alias_of));
  }
  printf("%-24s %s\n", name, line);
  (*found)++;
}

static int search(VM *vm, int nwords, char **words) {
  size_t n = 0;
  const char **names = malloc((vm->nglobals + analyze_special_count()) * sizeof *names);
  if (!names) abort();
  for (size_t i = 0; i < analyze_special_count(); i++) names[n++] = analyze_special_name(i);
  for (uint32_t i = 0; i < vm->nglobals; i++) {
    GlobalCell *g = &vm->globals[i];
    const char *name = sym_cstr(vm, g->name);
    if (g->value != UNBOUND_VAL && name[0] != ' ' && !analyze_is_special(vm, g->name)) names[n++] = name;
  }
  qsort(names, n, sizeof *names, by_name);
  int found = 0;
  for (size_t i = 0; i < n; i++) consider(vm, SYM(vm, names[i]), nwords, words, &found);
  free(names);
  if (!found) fprintf(stderr, "sema doc: no name or docstring contains that\n");
  return found ? 0 : 1;
}

/* ---- one name ---- */

typedef struct {
  const char *src;
  size_t len;
  const char *path;
} LoadJob;

static void run_load(VM *vm, void *ud) {
  LoadJob *j = ud;
  compile_eval_string(vm, j->src, j->len, j->path);
}

static int load_file(VM *vm, const char *path) {
  size_t len;
  int err = 0;
  char *src = reader_read_file(path, &len, &err);
  if (!src) {
    fprintf(stderr, "sema doc: cannot read %s: %s\n", path, strerror(err));
    return 1;
  }
  LoadJob j = {src, len, path};
  int rc = vm_protect(vm, run_load, &j);
  if (rc) cli_report_error(vm, "", src, len, path);
  free(src);
  return rc ? 1 : 0;
}

typedef struct {
  const char *name;
  Value text;
  bool bound;
} DocJob;

static void format_doc(VM *vm, void *ud) {
  DocJob *j = ud;
  DocEntry e;
  Value sym = SYM(vm, j->name);
  j->bound = doc_lookup(vm, sym, &e);
  j->text = doc_format(vm, sym);
}

/* Under protection: printing a variable's value can raise (a value nested
 * too deep, the heap limit). */
bool cli_doc_print(VM *vm, const char *name, FILE *out) {
  DocJob j = {name, NIL_VAL, false};
  if (vm_protect(vm, format_doc, &j)) {
    cli_report_error(vm, "", NULL, 0, NULL);
    return false;
  }
  fwrite(str_data(j.text), 1, str_len(j.text), j.bound ? out : stderr);
  fflush(j.bound ? out : stderr);
  return j.bound;
}

int cli_doc_command(int argc, char **argv) {
  if (argc < 3) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[2], "--markdown") == 0 && argc == 3) return markdown();
  if (strcmp(argv[2], "--undocumented") == 0 && argc == 3) return undocumented();
  if (strcmp(argv[2], "-h") == 0 || strcmp(argv[2], "--help") == 0) {
    usage(stdout);
    return 0;
  }
  VM *vm = boot_vm_new();
  env_force_all(vm);
  int rc = 0, i = 2;
  if (strcmp(argv[2], "--search") == 0) {
    if (argc < 4) {
      usage(stderr);
      rc = 2;
    } else {
      rc = search(vm, argc - 3, argv + 3);
    }
    vm_free(vm);
    return rc;
  }
  while (i + 1 < argc && (strcmp(argv[i], "--load") == 0 || strcmp(argv[i], "-l") == 0)) {
    if (load_file(vm, argv[i + 1])) {
      vm_free(vm);
      return 1;
    }
    i += 2;
  }
  if (i < argc && strcmp(argv[i], "--") == 0) i++; /* names after -- are never options */
  if (i >= argc || (i == 2 && argv[i][0] == '-' && argv[i][1] == '-')) {
    usage(stderr);
    vm_free(vm);
    return 2;
  }
  for (; i < argc; i++)
    if (!cli_doc_print(vm, argv[i], stdout)) rc = 1;
  fflush(stdout);
  vm_free(vm);
  return rc;
}
