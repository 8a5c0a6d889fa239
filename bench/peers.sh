#!/usr/bin/env bash
# Install the peer implementations the benchmark suite compares against.
set -euo pipefail
PKGS="hyperfine lua5.4 luajit guile-3.0 chezscheme sbcl chicken-bin python3"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
