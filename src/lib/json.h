/* json.h - the JSON codec of json.c (stdlib.md §16) for other modules.
 *
 * Both directions report failure by return value, so a caller can free its
 * own buffers (or choose its own error kind and wording) before raising.
 * Neither collects: the results need no rooting until the caller next calls
 * back into the VM.
 */
#ifndef SEMA_JSON_H
#define SEMA_JSON_H

#include "lib.h"

#define JSON_PRETTY 1u /* json/encode-pretty's layout: two-space indent, "key": value */
/* net.md §1.3 J(v): NaN and ±inf encode as null and every value json/encode
 * rejects as the JSON string of its printed form.  With it json_write fails
 * only on nesting deeper than 1024 levels. */
#define JSON_LOSSY 2u

/* Append the JSON text of v to out.  On failure returns false with
 * "FNAME: what" in err (errsz bytes); out then holds a partial text. */
bool json_write(VM *vm, StrBuf *out, Value v, unsigned flags, const char *fname, char *err, size_t errsz);

/* J(v) (or JP(v) with pretty) appended to out, for callers that want no
 * failure path: the one way JSON_LOSSY can fail, nesting deeper than 1024
 * levels, raises the eval error. */
void json_encode_lossy(VM *vm, StrBuf *out, Value v, bool pretty);

/* The entries of map m with their keys as text -- a string's bytes, a
 * keyword's or symbol's name, else the key's printed form (kept in kb) --
 * sorted by that text, entries of equal text in map order.  Encoders of
 * formats whose keys are strings (JSON, TOML) share it.  Returns the count;
 * the caller frees *out and kb. */
typedef struct {
  const char *p;
  size_t len, off;
  uint32_t idx; /* position in the map */
  Value v;
} JsonKey;
size_t json_key_entries(VM *vm, Value m, JsonKey **out, StrBuf *kb);

/* Where and why json_parse failed: msg is serde_json's wording (a static
 * string); line is 1-based, col counts bytes on the line up to the error. */
typedef struct {
  const char *msg;
  size_t line, col;
} JsonError;

/* Decode the whole of s[0..len) (valid UTF-8) with json/decode's mapping:
 * objects -> sorted maps with keyword keys, arrays -> lists, null -> nil.
 * Nesting is limited to 127 levels.  Returns false with *err filled. */
bool json_parse(VM *vm, const char *s, size_t len, Value *out, JsonError *err);

#endif
