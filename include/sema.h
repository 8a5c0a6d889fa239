/* sema.h - the C embedding API of the Sema interpreter.
 *
 * This is the only header an embedding program includes.  Link with
 * -lsema (static or shared) plus the libraries it uses:
 *   cc host.c -Iinclude build/libsema.a -lutf8proc -lpcre2-8 -lm -ldl -lpthread
 * or `pkg-config --cflags --libs sema` (build/sema.pc, made by `make`).
 * nettle, libcurl, SQLite, libmicrohttpd and wslay are loaded with dlopen
 * when a script first needs them: they are not on the link line.
 *
 * Model
 *   A sema_State is one independent interpreter.  Several may coexist and be
 *   used in any order, even from inside each other's C functions, but the
 *   library is not thread-safe: call it from one thread at a time (except
 *   sema_interrupt).  A script that calls (exit n) ends the evaluation, past
 *   every try, and sema_eval/sema_call return SEMA_EXIT with the status in
 *   sema_exit_code: the host process goes on.
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

enum { SEMA_OK = 0, SEMA_ERROR = 1, SEMA_EXIT = 2 };

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
  SEMA_TOTHER,   /* records, promises, bytevectors, ... */
  SEMA_TUSERDATA /* sema_userdata */
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

/* Building maps: a new map with KEY bound to VAL (maps are values: MAP is
 * unchanged).  sema_map() is the empty sorted map, the {...} of Sema code. */
SEMA_API sema_Value *sema_map(sema_State *S);
SEMA_API sema_Value *sema_map_set(sema_State *S, sema_Value *map, sema_Value *key, sema_Value *val);
/* Walking a sorted or hash map in key order: entry I (0 <= I < sema_len)
 * into *key and *val (new handles); false when I is out of range or MAP is
 * not a map.  Each call is O(n); for large maps take sema_map_entries. */
SEMA_API bool sema_map_entry(sema_State *S, sema_Value *map, size_t i, sema_Value **key, sema_Value **val);
/* Every entry in key order: a list of (key . value) pairs (new handle). */
SEMA_API sema_Value *sema_map_entries(sema_State *S, sema_Value *map);
/* Walking a list: the first element and the rest; NULL when not a pair. */
SEMA_API sema_Value *sema_car(sema_State *S, sema_Value *list);
SEMA_API sema_Value *sema_cdr(sema_State *S, sema_Value *list);

/* ---- userdata: a C pointer carried by a Sema value ---- */
/* TAG (a static string, compared by address) names the C type; FINALIZER
 * (may be NULL) runs with PTR when the value is collected or at sema_close.
 * Sema code sees an opaque value printed as <TAG>. */
typedef void (*sema_Finalizer)(void *ptr);
SEMA_API sema_Value *sema_userdata(sema_State *S, const char *tag, void *ptr, sema_Finalizer finalizer);
/* PTR of a userdata value made with the same TAG; NULL otherwise. */
SEMA_API void *sema_to_userdata(sema_State *S, sema_Value *v, const char *tag);

/* ---- host control ---- */
/* Output of display/print/println (STREAM 1) and print-error/... (STREAM 2)
 * goes to WRITE instead of stdout/stderr; NULL restores the streams. */
typedef void (*sema_Writer)(void *ud, int stream, const char *s, size_t n);
SEMA_API void sema_set_writer(sema_State *S, sema_Writer write, void *ud);
/* HOOK runs on the evaluating thread every EVERY calls/loop iterations (0:
 * only after sema_interrupt).  It returns NULL to go on, or a message: the
 * evaluation stops with "Eval error: MESSAGE", which no try catches.  NULL
 * HOOK removes it (and any budget). */
typedef const char *(*sema_Hook)(sema_State *S, void *ud);
SEMA_API void sema_set_hook(sema_State *S, sema_Hook hook, void *ud, uint64_t every);
/* A budget for each later sema_eval/sema_call: stop after STEPS calls and
 * loop iterations (0: no limit) or MILLIS milliseconds (0: no limit) with
 * "budget exceeded: ..." (replaces a hook).  Both 0 removes it. */
SEMA_API void sema_set_budget(sema_State *S, uint64_t steps, uint64_t millis);
/* Ask the running evaluation to stop at its next call or loop iteration (the
 * hook decides; with none it raises "interrupted", which try can catch).
 * Safe from a signal handler or another thread. */
SEMA_API void sema_interrupt(sema_State *S);
/* The status of the (exit N) that ended the last evaluation with SEMA_EXIT. */
SEMA_API int sema_exit_code(sema_State *S);

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
