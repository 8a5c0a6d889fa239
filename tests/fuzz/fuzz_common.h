/* fuzz_common.h - shared set-up of the libFuzzer targets: a VM whose output
 * is captured, whose heap is capped, with the builtins that touch the outside
 * world (files, processes, the environment, stdin, exit) disabled, and a
 * time budget per input enforced through the VM's interrupt flag. */
#ifndef SEMA_FUZZ_COMMON_H
#define SEMA_FUZZ_COMMON_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include "../../src/boot.h"
#include "../../src/compiler.h"
#include "../../src/reader.h"
#include "../../src/runtime.h"
#include "../../src/state.h"

static Value fuzz_disabled(VM *vm, int argc, Value *argv) {
  (void)argc, (void)argv;
  err_eval(vm, "disabled in the fuzzer");
}

static const char *const fuzz_blocked[] = {
    "exit", "shell", "sleep", "load", "read-line", "read-stdin", "io/read-line", "io/read-stdin",
    "file/write", "file/append", "file/delete", "file/rename", "file/copy", "file/mkdir",
    "file/write-lines", "file/write-bytes", "file/read", "file/read-lines", "file/read-bytes",
    "file/fold-lines", "file/for-each-line", "file/list", "file/glob", "file/info",
    "sys/set-env", "stream/open-input", "stream/open-output", "async/sleep", "time/sleep",
    "term/flush", "io/flush", "http/serve", "http/get", "http/post", "http/put", "http/delete", "http/request",
    /* they create files (an in-memory database can too: ATTACH, VACUUM INTO) */
    "kv/open", "db/open", "db/open-memory",
    /* LLM calls that reach a network provider, read or write files (tapes, the cache, stores, images) */
    "llm/configure", "llm/configure-embeddings", "llm/auto-configure", "llm/with-cassette", "llm/cassette-load",
    "llm/cassette-save", "llm/cassette-eject", "llm/with-cache", "llm/cache-clear", "llm/extract-from-image",
    "vector-store/open", "vector-store/save", NULL};

/* what the program prints is dropped */
static void fuzz_discard(void *ud, int stream, const char *s, size_t n) { (void)ud, (void)stream, (void)s, (void)n; }

static VM *fuzz_vm_new(void) {
  VM *vm = boot_vm_new();
  vm_set_output(vm, fuzz_discard, NULL, NULL);
  vm->heap.max_heap = 64u << 20;
  for (const char *const *n = fuzz_blocked; *n; n++)
    if (env_get(vm, *n) != UNBOUND_VAL) env_define(vm, *n, obj_native(vm, *n, fuzz_disabled, 0, -1));
  return vm;
}

/* SEMA_FUZZ_FRESH_VM=1: the targets that keep one VM across inputs (for
 * speed: booting the prelude costs more than most inputs) make a fresh one
 * per input instead and free it at the end.  libFuzzer's per-input leak
 * check (-detect_leaks=1) runs only while an input ends with as many frees
 * as mallocs; a kept VM's heap grows across inputs (pages, interned
 * symbols, tables), so after 1000 inputs that look like leaks but are not,
 * libFuzzer prints "disabled leak detection after every mutation" and only
 * the exit-time check is left.  With a VM per input, everything an input
 * allocates is freed by the end of it, and what is left is a leak of that
 * input.  tools/fuzz.sh leakpass runs the targets this way. */
static bool fuzz_fresh_vm(void) {
  static int fresh = -1;
  if (fresh < 0) {
    const char *e = getenv("SEMA_FUZZ_FRESH_VM");
    fresh = e && strcmp(e, "1") == 0;
  }
  return fresh;
}

/* The VM for this input: *vm, made on first use (or after fuzz_vm_end freed it). */
static VM *fuzz_vm_begin(VM **vm) {
  if (!*vm) *vm = fuzz_vm_new();
  return *vm;
}

/* The end of an input: with SEMA_FUZZ_FRESH_VM=1 the VM is freed (the next
 * input makes a new one); otherwise it is kept, and collected here since
 * allocation alone never collects. */
static void fuzz_vm_end(VM **vm) {
  if (!*vm) return;
  if (fuzz_fresh_vm()) {
    vm_free(*vm);
    *vm = NULL;
  } else {
    vm_safepoint(*vm);
  }
}

static void fuzz_on_alarm(int sig) {
  (void)sig;
  vm_interrupt_requested = 1;
}

/* Interrupt the running program after ms milliseconds of CPU time (0: cancel). */
static void fuzz_budget(int ms) {
  static int installed;
  if (!installed) {
    signal(SIGVTALRM, fuzz_on_alarm);
    installed = 1;
  }
  struct itimerval t = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
  setitimer(ITIMER_VIRTUAL, &t, NULL);
  if (!ms) vm_interrupt_requested = 0;
}

#endif
