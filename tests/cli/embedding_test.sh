#!/usr/bin/env bash
# docs/embedding.md's program, built from the page against the sanitizer
# build of libsema.a, run, and its output compared with the page's.
set -u
cd "$(dirname "$0")/../.."
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
LIB=${1:-build/debug/libsema.a}
awk '/^```c$/{on=1;next} /^```$/{on=0} on' docs/embedding.md >"$T/host.c"
awk '/^```text$/{on=1;next} /^```$/{on=0} on' docs/embedding.md >"$T/expected"
LIBS=$(sed -n 's/^LIBS = //p' Makefile)
cc -std=c11 -Wall -Wextra -Wno-unused-parameter -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
  -Iinclude "$T/host.c" "$LIB" -o "$T/host" $LIBS || { echo "embedding: FAILED to build"; exit 1; }
timeout 60 "$T/host" >"$T/out" 2>"$T/err"; rc=$?
if [ $rc -ne 0 ] || ! diff "$T/out" "$T/expected"; then
  echo "embedding: FAILED (status $rc)"; head -30 "$T/err"; exit 1
fi
echo "embedding: ok"
