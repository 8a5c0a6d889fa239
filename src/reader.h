/* reader.h - source text to data (language.md §2). */
#ifndef SEMA_READER_H
#define SEMA_READER_H

#include "vm.h"

#define READER_MAX_DEPTH 1024

typedef struct Reader {
  VM *vm;
  const char *src;
  size_t len, i;
  uint32_t line, col;
  int depth;
  uint32_t pos_flags; /* ORed into every position: POS_EVAL_BIT for `read` */
  bool at_eof_error; /* the last error was caused by end of input (incomplete form) */
  struct ArenaSlot *arena; /* temporaries of the datum being read */
} Reader;

void reader_init(Reader *r, VM *vm, const char *src, size_t len);
/* Read the next datum; false at end of input.  Raises reader errors. */
bool reader_next(Reader *r, Value *out);
/* Read every datum of src into a list (validates UTF-8 first). */
Value reader_read_all(VM *vm, const char *src, size_t len);
/* The same with pos_flags ORed into every position (POS_EVAL_BIT: `read`). */
Value reader_read_all_tagged(VM *vm, const char *src, size_t len, uint32_t pos_flags);
/* Would reading src fail only because input ended early?  (REPL continuation) */
bool reader_is_incomplete(VM *vm, const char *src, size_t len);
/* Read a whole file into a malloc'd NUL-terminated buffer; NULL with errno in *err. */
char *reader_read_file(const char *path, size_t *len, int *err);
/* Append a whole file (reader_read_file_vm: false with errno in *err; a
 * directory is EISDIR) or the rest of a stream (false on a read error) to b,
 * a buffer bound to vm: raises "out of memory" at the heap limit and
 * "interrupted" on an interrupt, closing the file (the allocation discipline). */
bool reader_read_file_vm(VM *vm, const char *path, struct StrBuf *b, int *err);
bool reader_read_stream(VM *vm, FILE *f, struct StrBuf *b);

#endif
