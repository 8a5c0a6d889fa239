#!/bin/sh
# `sema --interp` as one command, for tools that take a binary path (the conformance runner).
exec "${SEMA_INTERP_BIN:-$(dirname "$0")/../../build/sema}" --interp "$@"
