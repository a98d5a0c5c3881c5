#!/bin/sh
# Builds bench/NAME/bench_NAME.c against the core (bench/build_with_core.sh)
# and runs it on a fresh store in a temp dir, removed on exit:
# bench/run_engine_bench.sh NAME [bench arguments]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
NAME=$1
shift
"$ROOT/bench/build_with_core.sh" "$ROOT/bench/$NAME/bench_$NAME.c" "$BUILD/bench_$NAME"
DIR=$(mktemp -d "/tmp/sb-bench-$NAME-XXXXXX")
trap 'rm -rf "$DIR"' EXIT
"$BUILD/bench_$NAME" "$DIR" "$@"
