#!/usr/bin/env bash
# Installs the Release build into a temporary prefix and builds a program
# against it twice: through pkg-config and through find_package(effcam).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
P=$(mktemp -d)
trap 'rm -rf "$P"' EXIT
cmake --install "$ROOT/build" --prefix "$P/prefix" >/dev/null
PKG_CONFIG_PATH="$P/prefix/lib/pkgconfig" cc "$ROOT/tests/install/use.c" \
  $(PKG_CONFIG_PATH="$P/prefix/lib/pkgconfig" pkg-config --cflags --libs --static effcam) -o "$P/use_pc"
"$P/use_pc" "$ROOT/tests/fixtures/tiny_effnet.ecw"
cmake -S "$ROOT/tests/install" -B "$P/b" -DCMAKE_PREFIX_PATH="$P/prefix" >/dev/null
cmake --build "$P/b" >/dev/null
"$P/b/use" "$ROOT/tests/fixtures/tiny_effnet.ecw"
echo "install check: 2 passed, 0 failed"
