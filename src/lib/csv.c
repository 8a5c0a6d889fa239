/* csv.c - CSV (stdlib.md §17): csv/parse, csv/parse-maps, csv/encode.
 *
 * RFC 4180 with the defaults of the reference (Rust `csv` crate): delimiter
 * `,`, quote `"`, doubled quotes inside quoted fields, records ending at \n,
 * \r\n or \r, empty lines skipped, every record as wide as the first.  The
 * reader is one pass over the bytes; unquoted fields and quoted fields without
 * doubled quotes are copied straight from the input.  Like csv_core, a quote
 * in the middle of an unquoted field is literal, text after the closing quote
 * of a quoted field is appended to the field, and an unterminated quoted field
 * ends at the end of the input.  Error positions follow the csv crate: the
 * record index (0-based), and the line and byte where the reader was when it
 * started reading the record (just after the previous record's first
 * terminator byte). */
#include <stdlib.h>
#include "lib.h"

typedef struct {
  VM *vm;
  const char *s, *p, *end;
  StrBuf scratch;
  uint64_t line; /* 1 + newlines consumed */
} CsvReader;

/* One field starting at r->p (not at a terminator); leaves r->p at the
 * delimiter / terminator / end that ended it.  Returns the field string. */
static Value csv_field(CsvReader *r) {
  const char *p = r->p, *e = r->end;
  if (p < e && *p == '"') {
    p++;
    const char *run = p;
    bool copied = false;
    r->scratch.len = 0;
    for (;;) {
      const char *q = p;
      while (q < e && *q != '"') q++;
      for (const char *t = p; t < q; t++)
        if (*t == '\n') r->line++;
      if (q == e) { /* unterminated: the field runs to the end */
        p = q;
        break;
      }
      /* q at a quote: doubled => literal quote, else the quoted part ends */
      if (q + 1 < e && q[1] == '"') {
        sb_add(&r->scratch, run, (size_t)(q + 1 - run));
        copied = true;
        p = run = q + 2;
        continue;
      }
      p = q;
      break;
    }
    const char *qend = p; /* end of quoted text */
    if (p < e) p++;       /* the closing quote */
    /* anything up to the next delimiter/terminator joins the field */
    const char *tail = p;
    while (p < e && *p != ',' && *p != '\n' && *p != '\r') p++; /* quotes here are literal */
    r->p = p;
    if (!copied && tail == p) return str_new(r->vm, run, (size_t)(qend - run));
    sb_add(&r->scratch, run, (size_t)(qend - run));
    sb_add(&r->scratch, tail, (size_t)(p - tail));
    return str_new(r->vm, r->scratch.data, r->scratch.len);
  }
  const char *start = p;
  while (p < e && *p != ',' && *p != '\n' && *p != '\r') p++;
  r->p = p;
  return str_new(r->vm, start, (size_t)(p - start));
}

/* Skip empty lines.  Returns false at the end of the input. */
static bool csv_skip_empty(CsvReader *r) {
  while (r->p < r->end && (*r->p == '\n' || *r->p == '\r')) {
    if (*r->p == '\n') r->line++;
    r->p++;
  }
  return r->p < r->end;
}

/* Read one record (r->p at its first byte, not a terminator) into a list;
 * consumes the first terminator byte.  *nfields gets the field count. */
static Value csv_record(CsvReader *r, size_t *nfields) {
  ListBuilder lb;
  list_start(&lb);
  size_t n = 0;
  for (;;) {
    list_add(r->vm, &lb, csv_field(r));
    n++;
    if (r->p < r->end && *r->p == ',') {
      r->p++;
      continue;
    }
    break;
  }
  if (r->p < r->end) { /* a terminator */
    if (*r->p == '\n') r->line++;
    r->p++;
  }
  *nfields = n;
  return lb.head;
}

/* Parse the whole text; calls back nothing, so no rooting is needed. */
static Value csv_read_all(VM *vm, Value text, const char *fname, bool maps) {
  CsvReader r;
  r.vm = vm;
  r.s = r.p = str_data(text);
  r.end = r.s + str_len(text);
  r.line = 1;
  sb_init_vm(&r.scratch, vm);
  if (r.end - r.p >= 3 && memcmp(r.p, "\xEF\xBB\xBF", 3) == 0) r.p += 3; /* BOM */
  ListBuilder out;
  list_start(&out);
  Value header = NIL_VAL; /* list of keywords (maps mode) */
  size_t expected = 0;
  uint64_t recno = 0;
  for (;; recno++) {
    uint64_t pos_byte = (uint64_t)(r.p - r.s), pos_line = r.line;
    if (!csv_skip_empty(&r)) break;
    size_t nf;
    Value rec = csv_record(&r, &nf);
    if (recno == 0) {
      expected = nf;
    } else if (nf != expected) {
      sb_free(&r.scratch);
      err_eval(vm,
               "%s: parse error: CSV error: record %llu (line: %llu, byte: %llu): found record with %zu fields, "
               "but the previous record has %zu fields",
               fname, (unsigned long long)recno, (unsigned long long)pos_line, (unsigned long long)pos_byte, nf,
               expected);
    }
    if (!maps) {
      list_add(vm, &out, rec);
    } else if (recno == 0) {
      ListBuilder hb;
      list_start(&hb);
      for (Value l = rec; is_cons(l); l = cdr(l))
        list_add(vm, &hb, kw_val(sym_intern(vm, str_data(car(l)), str_len(car(l)))));
      header = hb.head;
    } else {
      Value m = map_empty(vm);
      for (Value h = header, l = rec; is_cons(l); h = cdr(h), l = cdr(l)) m = map_assoc(vm, m, car(h), car(l));
      list_add(vm, &out, m);
    }
  }
  sb_free(&r.scratch);
  return out.head;
}

static Value n_csv_parse(VM *vm, int argc, Value *argv) {
  if (!is_string(argv[0])) err_type(vm, "string", argv[0]);
  return csv_read_all(vm, argv[0], "csv/parse", false);
}

static Value n_csv_parse_maps(VM *vm, int argc, Value *argv) {
  if (!is_string(argv[0])) err_type(vm, "string", argv[0]);
  return csv_read_all(vm, argv[0], "csv/parse-maps", true);
}

static void csv_put_field(StrBuf *b, const char *s, size_t n) {
  bool quote = false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == ',' || c == '"' || c == '\n' || c == '\r') {
      quote = true;
      break;
    }
  }
  if (!quote) {
    sb_add(b, s, n);
    return;
  }
  sb_addc(b, '"');
  const char *run = s;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '"') {
      sb_add(b, run, (size_t)(s + i + 1 - run));
      sb_addc(b, '"');
      run = s + i + 1;
    }
  }
  sb_add(b, run, (size_t)(s + n - run));
  sb_addc(b, '"');
}

static Value n_csv_encode(VM *vm, int argc, Value *argv) {
  Value rows = argv[0];
  if (!is_list(rows)) err_type(vm, "list", rows);
  /* check the shapes first so no buffer is live when an error is raised */
  size_t expected = 0;
  bool first = true;
  for (Value l = rows; is_cons(l); l = cdr(l)) {
    Value row = car(l);
    size_t n;
    if (is_vector(row)) {
      n = vec_len(row);
    } else if (is_list(row)) {
      int64_t len = list_length(row);
      if (len < 0) err_type(vm, "list", row);
      n = (size_t)len;
    } else {
      err_type(vm, "list", row);
    }
    if (first) {
      expected = n;
      first = false;
    } else if (n != expected) {
      err_eval(vm, "csv/encode: CSV error: found record with %zu fields, but the previous record has %zu fields", n,
               expected);
    }
  }
  StrBuf b, tmp;
  sb_init_vm(&b, vm);
  sb_init_vm(&tmp, vm);
  for (Value l = rows; is_cons(l); l = cdr(l)) {
    SeqIter it;
    seqiter_init(&it, car(l));
    Value f;
    size_t start = b.len;
    bool firstf = true;
    while (seqiter_next(&it, &f)) {
      if (!firstf) sb_addc(&b, ',');
      firstf = false;
      if (is_string(f)) {
        csv_put_field(&b, str_data(f), str_len(f));
      } else {
        tmp.len = 0;
        print_value(vm, &tmp, f, true);
        csv_put_field(&b, tmp.data, tmp.len);
      }
    }
    if (b.len == start) sb_add(&b, "\"\"", 2); /* an empty record must not read as an empty line */
    sb_addc(&b, '\n');
  }
  sb_free(&tmp);
  return sb_to_string(vm, &b);
}

static const NativeDef defs[] = {
    {"csv/parse", n_csv_parse, 1, 1,
     "(csv/parse s)\nParses the CSV text s into a list of records, each a list of field strings (quoted fields may "
     "hold commas, quotes and line breaks); no header handling."},
    {"csv/parse-maps", n_csv_parse_maps, 1, 1,
     "(csv/parse-maps s)\nParses the CSV text s taking the first record as the header: returns a list of sorted maps "
     "from the header keywords to the field strings."},
    {"csv/encode", n_csv_encode, 1, 1,
     "(csv/encode rows)\nReturns the CSV text of rows, a list of lists or vectors: strings raw, other values in "
     "printed form, quoted when they hold a comma, quote or line break; every record ends with a newline."},
    {NULL, NULL, 0, 0},
};

void lib_csv_init(VM *vm) { env_register(vm, defs); }
