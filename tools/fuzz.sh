#!/usr/bin/env bash
# libFuzzer targets (tests/fuzz/fuzz_*.c), built with clang + ASan + UBSan.
#   tools/fuzz.sh build                 build build/fuzz/fuzz_{reader,compile,eval,http,llm,fmt}
#   tools/fuzz.sh run SECONDS [TARGET]  fuzz each target (or one) for SECONDS,
#                                       corpus in build/fuzz/corpus/T (seeded from tests/fuzz/corpus/T)
#   tools/fuzz.sh smoke                 replay tests/fuzz/regressions, then 50 s per target, then leakpass (CI)
#   tools/fuzz.sh leakpass [TARGET]     FUZZ_LEAK_SECONDS (8) per target with a VM per input
#                                       (SEMA_FUZZ_FRESH_VM=1): fails on a leak or when libFuzzer
#                                       turned its per-input leak check off
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG=${CLANG:-clang}
TARGETS=(reader compile eval http llm fmt)
FLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc -Iinclude"
LIBS="-lutf8proc -lpcre2-8 -lnettle -lm"

build() {
  mkdir -p build/fuzz
  for t in "${TARGETS[@]}"; do
    if [ ! -x build/fuzz/fuzz_$t ] || [ -n "$(find src tests/fuzz -newer build/fuzz/fuzz_$t -name '*.[ch]' | head -1)" ]; then
      extra=""
      [ "$t" = fmt ] && extra="src/cli/fmt.c src/cli/common.c" # the formatter lives in the CLI layer
      $CLANG $FLAGS src/*.c src/lib/*.c $extra tests/fuzz/fuzz_$t.c -o build/fuzz/fuzz_$t $LIBS
    fi
  done
}

# The failing inputs libFuzzer wrote.  (Not `ls crash-* leak-* ...`: ls
# fails when any one glob matches nothing, so that test passed unless all
# four kinds were present, and the smoke run let crashes and leaks through.)
artifacts() {
  local f
  for f in build/fuzz/crash-* build/fuzz/leak-* build/fuzz/timeout-* build/fuzz/oom-*; do
    if [ -f "$f" ]; then echo "$f"; fi
  done
}

run() { # seconds target...
  local secs=$1
  shift
  for t in "$@"; do
    mkdir -p build/fuzz/corpus/$t
    cp -n tests/fuzz/corpus/$t/* build/fuzz/corpus/$t/ 2>/dev/null || true
    # ASan's leak check stays on: a leak is a bug like a crash
    build/fuzz/fuzz_$t -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
      -print_final_stats=1 -artifact_prefix=build/fuzz/ build/fuzz/corpus/$t tests/fuzz/corpus/$t \
      2>&1 | grep -E 'stat::number_of_executed_units|stat::peak_rss|ERROR|SUMMARY|Test unit written|DONE' || true
    if [ -n "$(artifacts)" ]; then
      echo "fuzz: $t found a failing input:"; artifacts
      return 1
    fi
  done
}

# The per-input leak check.  A target that keeps its VM across inputs grows
# memory from input to input, so libFuzzer soon gives up checking leaks after
# each input ("disabled leak detection after every mutation") and only the
# exit-time check remains, which cannot tell which input leaked (or sees
# nothing, when the leaked block is still referenced from the kept heap).
# Here every target makes a fresh VM per input and frees it at the end
# (tests/fuzz/fuzz_common.h), so each input must end with as many frees as
# mallocs; libFuzzer then checks every input that does not.  Fails on a leak
# report or when libFuzzer says it disabled the check anyway (memory kept
# across inputs outside the VM: a process-wide cache that grows).
leakpass() { # seconds target...
  local secs=$1 bad=0
  shift
  for t in "$@"; do
    # a corpus of its own: the seeds and what this pass finds, not the long
    # runs' corpus (every one of whose inputs would cost a boot first)
    mkdir -p build/fuzz/leak-corpus/$t
    local log=build/fuzz/leakpass-$t.log
    SEMA_FUZZ_FRESH_VM=1 build/fuzz/fuzz_$t -detect_leaks=1 -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
      -max_len=4096 -print_final_stats=1 -artifact_prefix=build/fuzz/ build/fuzz/leak-corpus/$t tests/fuzz/corpus/$t \
      >"$log" 2>&1 || true
    grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|Test unit written' "$log" | sed "s/^/leakpass $t: /" || true
    if grep -q 'disabled leak detection' "$log"; then
      echo "fuzz: leakpass: $t: libFuzzer disabled its per-input leak check (memory kept across inputs), see $log"
      bad=1
    fi
    if grep -qE 'ERROR: (LeakSanitizer|AddressSanitizer|libFuzzer)|runtime error:' "$log" || [ -n "$(artifacts)" ]; then
      echo "fuzz: leakpass: $t failed, see $log:"
      artifacts
      bad=1
    fi
    grep -q 'stat::number_of_executed_units' "$log" || { echo "fuzz: leakpass: $t did not finish, see $log"; bad=1; }
  done
  return $bad
}

case "${1:-}" in
build) build ;;
run)
  build
  shift
  secs=${1:-600}
  shift || true
  if [ $# -gt 0 ]; then run "$secs" "$@"; else run "$secs" "${TARGETS[@]}"; fi
  ;;
smoke)
  build
  for t in "${TARGETS[@]}"; do
    if [ -d tests/fuzz/regressions/$t ] && ls tests/fuzz/regressions/$t/* >/dev/null 2>&1; then
      build/fuzz/fuzz_$t -runs=0 tests/fuzz/regressions/$t/* >/dev/null 2>&1 || { echo "fuzz: regression in $t"; exit 1; }
    fi
  done
  run "${FUZZ_SMOKE_SECONDS:-50}" "${TARGETS[@]}"
  leakpass "${FUZZ_LEAK_SECONDS:-8}" "${TARGETS[@]}"
  ;;
leakpass)
  build
  shift
  if [ $# -gt 0 ]; then leakpass "${FUZZ_LEAK_SECONDS:-8}" "$@"; else leakpass "${FUZZ_LEAK_SECONDS:-8}" "${TARGETS[@]}"; fi
  ;;
*) echo "usage: tools/fuzz.sh build|run SECONDS [TARGET]|smoke|leakpass [TARGET]" >&2; exit 2 ;;
esac
