/* encoding.c - base64, hashes and UUIDs (stdlib.md §18).
 *
 * Base64 is written by hand: the reference decodes with the standard alphabet,
 * canonical padding required, no whitespace and no non-zero trailing bits,
 * and reports errors in the wording of its base64 library ("Invalid symbol
 * 33, offset 2.", "Invalid padding", ...). Hashes come from nettle,
 * loaded on first use (digest.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/random.h>
#include "digest.h"
#include "encoding.h"
#include "lib.h"


/* ---- base64 ---- */

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_val(uint8_t c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

size_t encoding_base64(char *o, const uint8_t *p, size_t n) {
  char *start = o;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t w = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    *o++ = b64_alphabet[w >> 18];
    *o++ = b64_alphabet[(w >> 12) & 63];
    *o++ = b64_alphabet[(w >> 6) & 63];
    *o++ = b64_alphabet[w & 63];
  }
  if (n - i == 1) {
    uint32_t w = (uint32_t)p[i] << 16;
    *o++ = b64_alphabet[w >> 18];
    *o++ = b64_alphabet[(w >> 12) & 63];
    *o++ = '=';
    *o++ = '=';
  } else if (n - i == 2) {
    uint32_t w = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
    *o++ = b64_alphabet[w >> 18];
    *o++ = b64_alphabet[(w >> 12) & 63];
    *o++ = b64_alphabet[(w >> 6) & 63];
    *o++ = '=';
  }
  return (size_t)(o - start);
}

static Value b64_encode(VM *vm, const uint8_t *p, size_t n) {
  Value s = str_new_uninit(vm, (n + 2) / 3 * 4);
  encoding_base64(as_string(s)->data, p, n);
  str_finish(s);
  return s;
}

/* Decode S into OUT (malloc'd, caller frees). On error returns false and puts
 * the message in ERR. */
static bool b64_decode(const uint8_t *s, size_t n, StrBuf *out, char *err, size_t errsz) {
  sb_init(out);
  if (n == 0) return true;
  size_t rem = n % 4;
  if (rem == 1 && s[n - 1] != '=' && b64_val(s[n - 1]) < 0) {
    snprintf(err, errsz, "Invalid symbol %u, offset %zu.", s[n - 1], n - 1);
    return false;
  }
  /* all complete quads but the last: no padding allowed */
  size_t body = rem ? n - rem : n - 4;
  for (size_t i = 0; i < body; i += 4) {
    int v[4];
    for (int k = 0; k < 4; k++) {
      v[k] = b64_val(s[i + (size_t)k]);
      if (v[k] < 0) {
        snprintf(err, errsz, "Invalid symbol %u, offset %zu.", s[i + (size_t)k], i + (size_t)k);
        return false;
      }
    }
    uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
    char b[3] = {(char)(w >> 16), (char)(w >> 8), (char)w};
    sb_add(out, b, 3);
  }
  /* the final 1-4 symbols, possibly padded */
  int morsels[4], nm = 0, npad = 0;
  size_t first_pad = 0;
  uint8_t last = 0;
  for (size_t i = body; i < n; i++) {
    size_t li = i - body;
    if (s[i] == '=') {
      if (li < 2) {
        snprintf(err, errsz, "Invalid symbol %u, offset %zu.", s[i], i);
        return false;
      }
      if (npad == 0) first_pad = i;
      npad++;
      continue;
    }
    if (npad > 0) {
      snprintf(err, errsz, "Invalid symbol %u, offset %zu.", (unsigned)'=', first_pad);
      return false;
    }
    int v = b64_val(s[i]);
    if (v < 0) {
      snprintf(err, errsz, "Invalid symbol %u, offset %zu.", s[i], i);
      return false;
    }
    last = s[i];
    morsels[nm++] = v;
  }
  if (nm < 2) {
    snprintf(err, errsz, "Invalid input length: %zu", body + (size_t)nm);
    return false;
  }
  if ((npad + nm) % 4 != 0) {
    snprintf(err, errsz, "Invalid padding");
    return false;
  }
  uint32_t w = 0;
  for (int k = 0; k < 4; k++) w = w << 6 | (uint32_t)(k < nm ? morsels[k] : 0);
  int nbytes = nm * 6 / 8;
  uint32_t mask = 0xffffffu >> (nbytes * 8);
  if (w & mask) {
    snprintf(err, errsz, "Invalid last symbol %u, offset %zu.", last, body + (size_t)nm - 1);
    return false;
  }
  char b[3] = {(char)(w >> 16), (char)(w >> 8), (char)w};
  sb_add(out, b, (size_t)nbytes);
  return true;
}

static Value n_base64_encode(VM *vm, int argc, Value *argv) {
  Value s = arg_string(vm, argv[0]);
  return b64_encode(vm, (const uint8_t *)str_data(s), str_len(s));
}

static Value n_base64_encode_bytes(VM *vm, int argc, Value *argv) {
  if (!is_objtype(argv[0], OBJ_BYTEVEC)) err_type(vm, "bytevector", argv[0]);
  Bytevec *bv = (Bytevec *)as_obj(argv[0]);
  return b64_encode(vm, bv->data, bv->len);
}

static void decode_arg(VM *vm, Value v, const char *fname, StrBuf *out) {
  Value s = arg_string(vm, v);
  char err[96];
  if (!b64_decode((const uint8_t *)str_data(s), str_len(s), out, err, sizeof err)) {
    sb_free(out);
    err_eval(vm, "%s: %s", fname, err);
  }
}

static Value n_base64_decode(VM *vm, int argc, Value *argv) {
  StrBuf b;
  decode_arg(vm, argv[0], "base64/decode", &b);
  if (!utf8_valid(b.data ? b.data : "", b.len, NULL)) {
    sb_free(&b);
    err_eval(vm, "base64/decode: invalid UTF-8");
  }
  return sb_to_string(vm, &b);
}

static Value n_base64_decode_bytes(VM *vm, int argc, Value *argv) {
  StrBuf b;
  decode_arg(vm, argv[0], "base64/decode-bytes", &b);
  Value r = obj_bytevec(vm, (const uint8_t *)b.data, b.len);
  sb_free(&b);
  return r;
}

/* ---- hashes ---- */

static Value hex_string(VM *vm, const uint8_t *d, size_t n) {
  static const char hex[] = "0123456789abcdef";
  Value s = str_new_uninit(vm, n * 2);
  char *o = (char *)str_data(s);
  for (size_t i = 0; i < n; i++) {
    o[2 * i] = hex[d[i] >> 4];
    o[2 * i + 1] = hex[d[i] & 15];
  }
  str_finish(s);
  return s;
}

static NORETURN void no_digest(VM *vm, const char *fname) { err_eval(vm, "%s: hashing is not available: %s", fname, digest_error()); }

static Value n_sha256(VM *vm, int argc, Value *argv) {
  Value s = arg_string(vm, argv[0]);
  uint8_t d[DIGEST_SHA256_SIZE];
  if (!digest_sha256(str_data(s), str_len(s), d)) no_digest(vm, "hash/sha256");
  return hex_string(vm, d, sizeof d);
}

static Value n_md5(VM *vm, int argc, Value *argv) {
  Value s = arg_string(vm, argv[0]);
  uint8_t d[DIGEST_MD5_SIZE];
  if (!digest_md5(str_data(s), str_len(s), d)) no_digest(vm, "hash/md5");
  return hex_string(vm, d, sizeof d);
}

static Value n_hmac_sha256(VM *vm, int argc, Value *argv) {
  Value key = arg_string(vm, argv[0]);
  Value msg = arg_string(vm, argv[1]);
  uint8_t d[DIGEST_SHA256_SIZE];
  if (!digest_hmac_sha256(str_data(key), str_len(key), str_data(msg), str_len(msg), d)) no_digest(vm, "hash/hmac-sha256");
  return hex_string(vm, d, sizeof d);
}

/* ---- uuid ---- */

static void random_bytes(uint8_t *p, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom(p + got, n - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    got += (size_t)r;
  }
  if (got < n) {
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
      }
      close(fd);
    }
  }
  while (got < n) {
    uint64_t x = math_random_u64();
    for (int k = 0; k < 8 && got < n; k++, x >>= 8) p[got++] = (uint8_t)x;
  }
}

static Value n_uuid_v4(VM *vm, int argc, Value *argv) {
  uint8_t u[16];
  random_bytes(u, sizeof u);
  u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
  u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
  static const char hex[] = "0123456789abcdef";
  char buf[36];
  size_t j = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) buf[j++] = '-';
    buf[j++] = hex[u[i] >> 4];
    buf[j++] = hex[u[i] & 15];
  }
  return str_new(vm, buf, sizeof buf);
}

static const NativeDef defs[] = {
    {"base64/encode", n_base64_encode, 1, 1,
     "(base64/encode s)\nReturns the base64 encoding (standard alphabet, with = padding) of the UTF-8 bytes of s: "
     "(base64/encode \"hi\") is \"aGk=\"."},
    {"base64/decode", n_base64_decode, 1, 1,
     "(base64/decode s)\nDecodes the base64 text s (standard alphabet, padding required) and returns the bytes as a "
     "UTF-8 string; invalid input or bytes that are not UTF-8 are an error."},
    {"base64/encode-bytes", n_base64_encode_bytes, 1, 1,
     "(base64/encode-bytes bv)\nReturns the base64 encoding of the bytevector bv."},
    {"base64/decode-bytes", n_base64_decode_bytes, 1, 1,
     "(base64/decode-bytes s)\nDecodes the base64 text s into a bytevector."},
    {"hash/sha256", n_sha256, 1, 1,
     "(hash/sha256 s)\nReturns the SHA-256 digest of the UTF-8 bytes of s as 64 lowercase hex digits."},
    {"hash/md5", n_md5, 1, 1,
     "(hash/md5 s)\nReturns the MD5 digest of the UTF-8 bytes of s as 32 lowercase hex digits."},
    {"hash/hmac-sha256", n_hmac_sha256, 2, 2,
     "(hash/hmac-sha256 key message)\nReturns the HMAC-SHA256 of the string message under the string key, as "
     "lowercase hex."},
    {"uuid/v4", n_uuid_v4, 0, 0,
     "(uuid/v4)\nReturns a random version-4 UUID as a lowercase hyphenated string of 36 characters."},
    {NULL, NULL, 0, 0},
};

void lib_encoding_init(VM *vm) { env_register(vm, defs); }
