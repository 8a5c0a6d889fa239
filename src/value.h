/* value.h - the NaN-boxed value word.
 *
 * Every Sema value is one 64-bit word.  A double is stored as itself.  All
 * other values live in the negative quiet-NaN space: the top 16 bits are a
 * tag in 0xFFF9..0xFFFE and the low 48 bits are the payload.
 *
 *   0x0000.. - 0xFFF8..   double (NaNs are canonical: 0x7FF8.. or 0xFFF8..0)
 *   0xFFF9 payload        special: nil, #f, #t, '(), internal markers
 *   0xFFFA payload        small integer, 48-bit two's complement
 *   0xFFFB payload        character (Unicode scalar value)
 *   0xFFFC payload        symbol id
 *   0xFFFD payload        keyword id
 *   0xFFFE payload        pointer to a heap object (Obj *)
 *
 * Arithmetic on canonical NaNs only yields NaNs with a zero payload, so a
 * double can never be mistaken for a tagged value.  Doubles made from raw
 * bits (bytevector conversions) must go through val_canon_double().
 */
#ifndef SEMA_VALUE_H
#define SEMA_VALUE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef uint64_t Value;

#define NORETURN __attribute__((noreturn))
#define NOINLINE __attribute__((noinline))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
/* a hint that *p will be written soon (never faults, even for NULL) */
#define PREFETCH_W(p) __builtin_prefetch((p), 1, 3)

#define TAG_SPECIAL 0xFFF9u
#define TAG_INT 0xFFFAu
#define TAG_CHAR 0xFFFBu
#define TAG_SYM 0xFFFCu
#define TAG_KW 0xFFFDu
#define TAG_OBJ 0xFFFEu

#define VAL_TAG(v) ((uint32_t)((v) >> 48))
#define MK_TAGGED(tag, payload) (((uint64_t)(tag) << 48) | ((uint64_t)(payload) & 0xFFFFFFFFFFFFull))
#define PAYLOAD_MASK 0xFFFFFFFFFFFFull

#define NIL_VAL MK_TAGGED(TAG_SPECIAL, 0)
#define FALSE_VAL MK_TAGGED(TAG_SPECIAL, 1)
#define TRUE_VAL MK_TAGGED(TAG_SPECIAL, 2)
#define EMPTY_VAL MK_TAGGED(TAG_SPECIAL, 3) /* the empty list '() */
#define UNBOUND_VAL MK_TAGGED(TAG_SPECIAL, 4) /* internal: global slot without a value */
#define UNDEF_VAL MK_TAGGED(TAG_SPECIAL, 5)   /* internal: "no value" marker */

#define SMALL_INT_MIN (-(INT64_C(1) << 47))
#define SMALL_INT_MAX ((INT64_C(1) << 47) - 1)

static inline bool is_double(Value v) { return v < 0xFFF9000000000000ull; }
static inline bool is_small_int(Value v) { return VAL_TAG(v) == TAG_INT; }
static inline bool is_char(Value v) { return VAL_TAG(v) == TAG_CHAR; }
static inline bool is_sym(Value v) { return VAL_TAG(v) == TAG_SYM; }
static inline bool is_kw(Value v) { return VAL_TAG(v) == TAG_KW; }
static inline bool is_obj(Value v) { return VAL_TAG(v) == TAG_OBJ; }
static inline bool is_nil(Value v) { return v == NIL_VAL; }
static inline bool is_bool(Value v) { return v == TRUE_VAL || v == FALSE_VAL; }
static inline bool is_empty(Value v) { return v == EMPTY_VAL; }
/* Only #f and nil are false; they differ in the lowest bit only. */
static inline bool is_falsy(Value v) { return (v | 1) == FALSE_VAL; }
static inline bool is_truthy(Value v) { return (v | 1) != FALSE_VAL; }

static inline double as_double(Value v) {
  double d;
  memcpy(&d, &v, sizeof d);
  return d;
}
static inline Value double_val(double d) {
  Value v;
  memcpy(&v, &d, sizeof v);
  return v;
}
/* For doubles built from arbitrary bits. */
static inline Value val_canon_double(double d) {
  if (d != d) return 0x7FF8000000000000ull;
  return double_val(d);
}

static inline int64_t small_int_of(Value v) { return ((int64_t)(v << 16)) >> 16; }
static inline bool fits_small_int(int64_t i) { return i >= -(INT64_C(1) << 47) && i < (INT64_C(1) << 47); }
static inline Value small_int_val(int64_t i) { return MK_TAGGED(TAG_INT, (uint64_t)i); }

static inline Value bool_val(bool b) { return b ? TRUE_VAL : FALSE_VAL; }
static inline Value char_val(uint32_t c) { return MK_TAGGED(TAG_CHAR, c); }
static inline uint32_t char_of(Value v) { return (uint32_t)v; }
static inline Value sym_val(uint32_t id) { return MK_TAGGED(TAG_SYM, id); }
static inline Value kw_val(uint32_t id) { return MK_TAGGED(TAG_KW, id); }
static inline uint32_t sym_id(Value v) { return (uint32_t)v; }

struct Obj;
static inline struct Obj *as_obj(Value v) { return (struct Obj *)(uintptr_t)(v & PAYLOAD_MASK); }
static inline Value obj_val(const void *o) { return MK_TAGGED(TAG_OBJ, (uintptr_t)o); }

#endif
