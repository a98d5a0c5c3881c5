#!/bin/sh
# History benchmark: 1M stored messages over 100k clients (10k of them
# with 60 messages over 3 conversations), then p50/p99 of one 50-message
# history page. Usage: bench/history/run.sh [messages clients]
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
"$ROOT/bench/build_with_core.sh" "$ROOT/bench/history/bench_history.c" "$BUILD/bench_history"
DIR=$(mktemp -d /tmp/sb-bench-history-XXXXXX)
trap 'rm -rf "$DIR"' EXIT
"$BUILD/bench_history" "$DIR" "$@"
