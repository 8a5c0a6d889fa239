#!/usr/bin/env bash
# Install every Debian package the build and the tests need.
set -euo pipefail
PKGS="build-essential clang libclang-rt-14-dev libutf8proc-dev libpcre2-dev libedit-dev libbsd-dev libncurses-dev libxxhash-dev libcmocka-dev nettle-dev libsqlite3-dev python3 valgrind libcurl4-openssl-dev libmicrohttpd-dev libwslay-dev curl wrk nodejs"
missing=""
for p in $PKGS; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
echo "deps: ok"
