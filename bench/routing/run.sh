#!/bin/sh
# Routing benchmark: 10k operators in 100 groups, 100k queued
# conversations; prints decision latencies (p50/p99) and the memory the
# routing state takes. Usage: bench/routing/run.sh [operators groups conversations]
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
"$ROOT/bench/build_with_core.sh" "$ROOT/bench/routing/bench_routing.c" "$BUILD/bench_routing"
DIR=$(mktemp -d /tmp/sb-bench-routing-XXXXXX)
trap 'rm -rf "$DIR"' EXIT
"$BUILD/bench_routing" "$DIR" "$@"
