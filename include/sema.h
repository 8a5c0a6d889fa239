/* sema.h - the C embedding API of the Sema interpreter.
 *
 * This is the only header an embedding program includes.  Link with
 * -lsema (static or shared) plus -lutf8proc -lpcre2-8 -lm, or use
 * `pkg-config --cflags --libs sema`.
 *
 * Model
 *   A sema_State is one independent interpreter.  Several may coexist and be
 *   used in any order, even from inside each other's C functions, but the
 *   library is not thread-safe: call it from one thread at a time.  A script
 *   that calls (exit n) ends the host process.
 *
 *   Values held by C are handles (sema_Value *).  A handle keeps its value
 *   alive across garbage collections until sema_release or sema_close.  Every
 *   function that returns a sema_Value * hands out a NEW handle the caller
 *   owns (NULL means "no value": unbound, out of range, or failure).  Handles
 *   belong to the state that made them; never pass one to another state.
 *
 *   A NULL sema_Value * passed as an input is read as nil.
 *
 *   No function longjmps into the caller: Sema errors come back as SEMA_ERROR
 *   with the details available through sema_error_message and friends until
 *   the next failure.
 */
#ifndef SEMA_H
#define SEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SEMA_API __attribute__((visibility("default")))
#define SEMA_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SEMA_API
#define SEMA_PRINTF(f, a)
#endif

#define SEMA_VERSION_MAJOR 0
#define SEMA_VERSION_MINOR 1
#define SEMA_VERSION_PATCH 0
#define SEMA_VERSION_STRING "0.1.0"

enum { SEMA_OK = 0, SEMA_ERROR = 1 };

typedef struct sema_State sema_State;
typedef struct sema_Value sema_Value;

typedef enum {
  SEMA_TNIL,
  SEMA_TBOOL,
  SEMA_TINT,
  SEMA_TFLOAT,
  SEMA_TSTRING,
  SEMA_TCHAR,
  SEMA_TSYMBOL,
  SEMA_TKEYWORD,
  SEMA_TLIST, /* including the empty list */
  SEMA_TVECTOR,
  SEMA_TMAP,     /* sorted map: {...} literals */
  SEMA_THASHMAP, /* hashmap/new */
  SEMA_TFUNCTION, /* lambda, builtin, multimethod */
  SEMA_TOTHER    /* records, promises, bytevectors, ... */
} sema_Type;

/* The library version, e.g. "0.1.0" (may differ from SEMA_VERSION_STRING
 * when running against a newer shared library). */
SEMA_API const char *sema_version(void);

/* ---- states ---- */
/* A fresh interpreter with the standard library loaded; NULL if out of memory.
 * SEMA_GC_STRESS=1 in the environment makes it collect at every safe point. */
SEMA_API sema_State *sema_open(void);
/* Frees the state and every handle it gave out.  Not from inside a callback. */
SEMA_API void sema_close(sema_State *S);

/* ---- handles ---- */
SEMA_API void sema_release(sema_State *S, sema_Value *v); /* NULL is ignored */
SEMA_API sema_Value *sema_dup(sema_State *S, sema_Value *v); /* a second handle to the same value */

/* ---- evaluation ---- */
/* Evaluate SRC (LEN bytes) as one unit in the global environment.  CHUNKNAME
 * (may be NULL) names the source in error positions and stack traces, and is
 * the base for relative load/import.  On SEMA_OK, *result (if RESULT is not
 * NULL) receives the value of the last form. */
SEMA_API int sema_eval(sema_State *S, const char *src, size_t len, const char *chunkname, sema_Value **result);
/* Evaluate a file as one unit, like `sema FILE`. */
SEMA_API int sema_eval_file(sema_State *S, const char *path, sema_Value **result);
/* Call FN (any callable) with ARGC arguments. */
SEMA_API int sema_call(sema_State *S, sema_Value *fn, int argc, sema_Value *const *argv, sema_Value **result);

/* ---- the last error ---- */
/* Display form, e.g. "Eval error: division by zero"; "" when none.  Owned by
 * the state, valid until the next failure. */
SEMA_API const char *sema_error_message(sema_State *S);
SEMA_API int sema_error_line(sema_State *S); /* 0 when unknown */
SEMA_API int sema_error_col(sema_State *S);  /* 0 when unknown */
/* The error map as Sema code would catch it with try (new handle), or NULL. */
SEMA_API sema_Value *sema_error_value(sema_State *S);

/* ---- globals ---- */
SEMA_API sema_Value *sema_get_global(sema_State *S, const char *name); /* NULL if unbound */
SEMA_API void sema_set_global(sema_State *S, const char *name, sema_Value *v); /* NULL v binds nil */

/* ---- making values (NULL on failure, e.g. invalid UTF-8) ---- */
SEMA_API sema_Value *sema_nil(sema_State *S);
SEMA_API sema_Value *sema_bool(sema_State *S, bool b);
SEMA_API sema_Value *sema_int(sema_State *S, int64_t i);
SEMA_API sema_Value *sema_float(sema_State *S, double d);
SEMA_API sema_Value *sema_string(sema_State *S, const char *s, size_t len); /* UTF-8 */
SEMA_API sema_Value *sema_keyword(sema_State *S, const char *name); /* without the colon */
SEMA_API sema_Value *sema_symbol(sema_State *S, const char *name);
SEMA_API sema_Value *sema_list(sema_State *S, size_t n, sema_Value *const *items);
SEMA_API sema_Value *sema_vector(sema_State *S, size_t n, sema_Value *const *items);

/* ---- reading values ---- */
SEMA_API sema_Type sema_type(sema_State *S, sema_Value *v);
SEMA_API const char *sema_type_name(sema_Type t); /* "nil", "int", ... */
SEMA_API bool sema_to_bool(sema_State *S, sema_Value *v); /* Sema truthiness: only nil and #f are false */
/* Integers only; *ok (may be NULL) is set to 1 on success, 0 otherwise. */
SEMA_API int64_t sema_to_int(sema_State *S, sema_Value *v, int *ok);
/* Floats and integers. */
SEMA_API double sema_to_float(sema_State *S, sema_Value *v, int *ok);
/* UTF-8 bytes of a string (or the name of a symbol/keyword), NUL-terminated;
 * NULL for other types.  Valid while the handle lives. */
SEMA_API const char *sema_to_string(sema_State *S, sema_Value *v, size_t *len);
/* The printed form, as `write` prints it; malloc'd (free it), NULL on failure. */
SEMA_API char *sema_repr(sema_State *S, sema_Value *v);
/* Elements of a list or vector, entries of a map, characters of a string; else 0. */
SEMA_API size_t sema_len(sema_State *S, sema_Value *v);
/* Element I of a list or vector; NULL when out of range. */
SEMA_API sema_Value *sema_index(sema_State *S, sema_Value *v, size_t i);
/* Value under KEY in a sorted or hash map; NULL when absent. */
SEMA_API sema_Value *sema_map_get(sema_State *S, sema_Value *map, sema_Value *key);

/* ---- C functions ---- */
/* ARGV handles are borrowed for the duration of the call.  Store a new handle
 * (or NULL for nil) in *result and return SEMA_OK, or return SEMA_ERROR:
 * after sema_raise the Sema caller sees an :eval error with that message
 * (catchable with try); after a failed sema_eval/sema_call the error it
 * reported is re-raised. */
typedef int (*sema_CFunction)(sema_State *S, int argc, sema_Value *const *argv, sema_Value **result, void *ud);
/* Record the message of the error a C function is about to return; always
 * returns SEMA_ERROR so one can write `return sema_raise(S, ...)`. */
SEMA_API int sema_raise(sema_State *S, const char *fmt, ...) SEMA_PRINTF(2, 3);
/* Bind NAME to a Sema function calling FN.  Calls with fewer than MIN_ARGS or
 * more than MAX_ARGS (-1: no limit) arguments are arity errors. */
SEMA_API int sema_register(sema_State *S, const char *name, sema_CFunction fn, int min_args, int max_args, void *ud);

#ifdef __cplusplus
}
#endif
#endif
