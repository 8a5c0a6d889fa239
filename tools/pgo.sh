#!/usr/bin/env bash
# make pgo: a profile-guided release build, trained on the benchmark workloads.
#   1. build/pgo-gen/sema with -fprofile-generate
#   2. run the training set (../shared/bench workloads, 1brc on 200k generated rows)
#   3. build/pgo/sema with -fprofile-use
set -euo pipefail
cd "$(dirname "$0")/.."
CC=${CC:-cc}
FLAGS="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -O2 -g $ARCH_FLAGS -Isrc -Iinclude"
SRC="$(ls src/*.c src/lib/*.c src/cli/*.c)"
W=../shared/bench/workloads
rm -rf build/pgo-gen build/pgo build/pgo-data
mkdir -p build/pgo-gen build/pgo build/pgo-data
$CC $FLAGS -fprofile-generate -fprofile-update=single -fprofile-dir="$PWD/build/pgo-data" $SRC \
  -o build/pgo-gen/sema $RELEASE_LIBS
if [ -d "$W" ]; then
  data=/tmp/sema-pgo-1brc.txt
  [ -f "$data" ] || python3 ../shared/bench/gen1brc.py 200000 "$data" >/dev/null
  for w in tak fib deriv nqueens closure-storm upvalue-counter strings hashmap; do
    build/pgo-gen/sema "$W/$w.sema" >/dev/null
  done
  build/pgo-gen/sema "$W/1brc.sema" -- "$data" >/dev/null
fi
# the language tests too, so the library and the compiler get profiles
(cd tests/lang && for f in *.sema; do [ -f "${f%.sema}.expect" ] && ../../build/pgo-gen/sema "$f" >/dev/null 2>&1; done) || true
$CC $FLAGS -fprofile-use -fprofile-partial-training -Wno-missing-profile -fprofile-dir="$PWD/build/pgo-data" $SRC \
  -o build/pgo/sema $RELEASE_LIBS
echo "built build/pgo/sema"
