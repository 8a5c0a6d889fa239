/* digest.c - message digests from nettle, loaded with dlopen on first use
 * (dynlib.h says why).  The prototypes are nettle 3's (libnettle.so.8):
 * _Generic checks each against the installed headers without referring to
 * the symbol, so nothing links against libnettle. */
#include <nettle/hmac.h>
#include <nettle/md5.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include "digest.h"
#include "dynlib.h"

#define NETTLE_API(X)                                                                    \
  X(md5_init, void, (struct md5_ctx *))                                                  \
  X(md5_update, void, (struct md5_ctx *, size_t, const uint8_t *))                       \
  X(md5_digest, void, (struct md5_ctx *, size_t, uint8_t *))                             \
  X(sha1_init, void, (struct sha1_ctx *))                                                \
  X(sha1_update, void, (struct sha1_ctx *, size_t, const uint8_t *))                     \
  X(sha1_digest, void, (struct sha1_ctx *, size_t, uint8_t *))                           \
  X(sha256_init, void, (struct sha256_ctx *))                                            \
  X(sha256_update, void, (struct sha256_ctx *, size_t, const uint8_t *))                 \
  X(sha256_digest, void, (struct sha256_ctx *, size_t, uint8_t *))                       \
  X(hmac_sha256_set_key, void, (struct hmac_sha256_ctx *, size_t, const uint8_t *))      \
  X(hmac_sha256_update, void, (struct hmac_sha256_ctx *, size_t, const uint8_t *))       \
  X(hmac_sha256_digest, void, (struct hmac_sha256_ctx *, size_t, uint8_t *))

#define CHECK(name, ret, args) _Static_assert(_Generic(&nettle_##name, ret(*) args : 1, default : 0), "prototype of nettle_" #name);
NETTLE_API(CHECK)

#define FIELD(name, ret, args) ret(*name) args;
static struct {
  NETTLE_API(FIELD)
} N;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool loaded;
static char load_error[256] = "not loaded";

static void load(void) {
  static const DynSym syms[] = {
#define SYM(name, ret, args) {"nettle_" #name, (void **)&N.name, false},
      NETTLE_API(SYM)
#undef SYM
      {NULL, NULL, false},
  };
  loaded = dynlib_open("libnettle.so.8", syms, load_error, sizeof load_error) != NULL;
}

static bool ready(void) {
  pthread_once(&once, load);
  return loaded;
}

const char *digest_error(void) { return load_error; }

bool digest_md5(const void *data, size_t len, uint8_t out[DIGEST_MD5_SIZE]) {
  if (!ready()) return false;
  struct md5_ctx c;
  N.md5_init(&c);
  N.md5_update(&c, len, data);
  N.md5_digest(&c, DIGEST_MD5_SIZE, out);
  return true;
}

bool digest_sha1(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[DIGEST_SHA1_SIZE]) {
  if (!ready()) return false;
  struct sha1_ctx c;
  N.sha1_init(&c);
  N.sha1_update(&c, alen, a);
  if (b) N.sha1_update(&c, blen, b);
  N.sha1_digest(&c, DIGEST_SHA1_SIZE, out);
  return true;
}

bool digest_sha256(const void *data, size_t len, uint8_t out[DIGEST_SHA256_SIZE]) {
  if (!ready()) return false;
  struct sha256_ctx c;
  N.sha256_init(&c);
  N.sha256_update(&c, len, data);
  N.sha256_digest(&c, DIGEST_SHA256_SIZE, out);
  return true;
}

bool digest_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen, uint8_t out[DIGEST_SHA256_SIZE]) {
  if (!ready()) return false;
  struct hmac_sha256_ctx c;
  N.hmac_sha256_set_key(&c, klen, key);
  N.hmac_sha256_update(&c, mlen, msg);
  N.hmac_sha256_digest(&c, DIGEST_SHA256_SIZE, out);
  return true;
}
