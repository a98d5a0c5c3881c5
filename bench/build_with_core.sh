#!/bin/sh
# Builds a benchmark program (one C file) against the core library of a
# Release build: bench/build_with_core.sh SRC OUT. BUILD (default
# build-bench/) is configured and its sb_core target built when needed.
# Not part of ctest: benchmarks run by hand (bench/*/run.sh).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
SRC=$1
OUT=$2
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" --target sb_core -j"$(nproc)" >/dev/null
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
   -I"$ROOT/core" -I"$ROOT/sdk/include" "$SRC" "$BUILD/core/libsb_core.a" \
   -llmdb -lmsgpackc -lyaml -ljansson -lcurl -lev -lhttp_parser -lwslay \
   -lmbedtls -lmbedx509 -lmbedcrypto -lpthread -ldl -lm -o "$OUT"
