/* common.c - what every CLI command shares: reading stdin, JSON string
 * literals (sema eval --json, sema fmt --json) and the source excerpt under
 * an error (the sema run/REPL reports and sema fmt's).  Kept
 * apart from main.c so that the fmt fuzz target can link the formatter
 * (fmt.c) with it alone. */
#include <stdio.h>
#include <string.h>
#include "../runtime.h"
#include "cli.h"

char *cli_read_stdin(size_t *len) {
  StrBuf b;
  sb_init(&b);
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) sb_add(&b, buf, n);
  if (!b.data) sb_add(&b, "", 0);
  *len = b.len;
  return b.data;
}

void cli_print_excerpt(const char *src, size_t len, long line, long col) {
  const char *p = src, *end = src + len;
  for (long l = 1; l < line && p < end; l++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) return;
    p = nl + 1;
  }
  const char *e = memchr(p, '\n', (size_t)(end - p));
  if (!e) e = end;
  if (e > p && e[-1] == '\r') e--;
  /* long lines: show a window of about 100 bytes around the column */
  long c = 1;
  const char *from = p;
  while (from < e && c < col - 60) {
    from++;
    if (((unsigned char)*from & 0xC0) != 0x80) c++;
  }
  p = from;
  if (e - p > 120) {
    e = p + 120;
    while (e > p && ((unsigned char)*e & 0xC0) == 0x80) e--;
  }
  fprintf(stderr, "%5ld | %s%.*s\n      | %s", line, from > src && c > 1 ? "..." : "", (int)(e - p), p,
          c > 1 ? "   " : "");
  for (const char *q = p; q < e && c < col; q++) {
    if (((unsigned char)*q & 0xC0) == 0x80) continue;
    fputc(*q == '\t' ? '\t' : ' ', stderr);
    c++;
  }
  fputs("^\n", stderr);
}

void cli_json_string(StrBuf *b, const char *s, size_t n) {
  sb_addc(b, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '"': sb_adds(b, "\\\""); break;
    case '\\': sb_adds(b, "\\\\"); break;
    case '\n': sb_adds(b, "\\n"); break;
    case '\r': sb_adds(b, "\\r"); break;
    case '\t': sb_adds(b, "\\t"); break;
    default:
      if (c < 0x20)
        sb_addf(b, "\\u%04x", c);
      else
        sb_addc(b, (char)c);
    }
  }
  sb_addc(b, '"');
}
