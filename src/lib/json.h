/* json.h - the JSON encoder for other library modules. */
#ifndef SEMA_LIB_JSON_H
#define SEMA_LIB_JSON_H

#include "lib.h"

/* Append J(v) (net.md §1.3) to OUT: json/encode's text, except that it never
 * fails: NaN and ±inf encode as null and every value json/encode rejects
 * (character, record, procedure, ...) as the JSON string of its printed form.
 * PRETTY: json/encode-pretty's layout (JP(v)). */
void json_encode_lossy(VM *vm, StrBuf *out, Value v, bool pretty);

#endif
