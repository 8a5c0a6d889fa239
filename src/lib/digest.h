/* digest.h - message digests from nettle, loaded on first use (digest.c).
 * Heap-free and thread-safe (the web server's threads use SHA-1 for the
 * WebSocket handshake).  Each returns false when libnettle cannot be loaded;
 * digest_error() then says why. */
#ifndef SEMA_DIGEST_H
#define SEMA_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIGEST_MD5_SIZE 16
#define DIGEST_SHA1_SIZE 20
#define DIGEST_SHA256_SIZE 32

bool digest_md5(const void *data, size_t len, uint8_t out[DIGEST_MD5_SIZE]);
/* SHA-1 of the concatenation of two byte strings (b may be NULL) */
bool digest_sha1(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[DIGEST_SHA1_SIZE]);
bool digest_sha256(const void *data, size_t len, uint8_t out[DIGEST_SHA256_SIZE]);
bool digest_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen, uint8_t out[DIGEST_SHA256_SIZE]);
const char *digest_error(void);

#endif
