/* encoding.h - the encoders of encoding.c that heap-free code uses. */
#ifndef SEMA_ENCODING_H
#define SEMA_ENCODING_H

#include <stddef.h>
#include <stdint.h>

/* base64 of n bytes into out ((n + 2) / 3 * 4 bytes, no NUL); returns the length */
size_t encoding_base64(char *out, const uint8_t *p, size_t n);

#endif
