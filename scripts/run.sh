#!/usr/bin/env bash
# README command 1: install dependencies, build, run weir in the foreground.
# Extra arguments go to weir, e.g. ./scripts/run.sh -d 5 -c /etc/weir/weir.json
# Without -c, weir uses ./weir.json and writes the default config there on
# first start.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR="${WEIR_BUILD_DIR:-build}"

bash scripts/deps.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$BUILD_DIR" -j"$(nproc)"
exec "./$BUILD_DIR/weir" "$@"
