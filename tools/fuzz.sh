#!/usr/bin/env bash
# libFuzzer targets (tests/fuzz/fuzz_*.c), built with clang + ASan + UBSan.
#   tools/fuzz.sh build                 build build/fuzz/fuzz_{reader,compile,eval,http,llm,fmt}
#   tools/fuzz.sh run SECONDS [TARGET]  fuzz each target (or one) for SECONDS,
#                                       corpus in build/fuzz/corpus/T (seeded from tests/fuzz/corpus/T)
#   tools/fuzz.sh smoke                 replay tests/fuzz/regressions, then 50 s per target (CI)
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
      [ "$t" = fmt ] && extra=src/cli/fmt.c # the formatter lives in the CLI layer
      $CLANG $FLAGS src/*.c src/lib/*.c $extra tests/fuzz/fuzz_$t.c -o build/fuzz/fuzz_$t $LIBS
    fi
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
    if ls build/fuzz/crash-* build/fuzz/leak-* build/fuzz/timeout-* build/fuzz/oom-* >/dev/null 2>&1; then
      echo "fuzz: $t found a failing input:"; ls build/fuzz/crash-* build/fuzz/leak-* build/fuzz/timeout-* build/fuzz/oom-* 2>/dev/null
      return 1
    fi
  done
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
  ;;
*) echo "usage: tools/fuzz.sh build|run SECONDS [TARGET]|smoke" >&2; exit 2 ;;
esac
