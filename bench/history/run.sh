#!/bin/sh
# History benchmark: 1M stored messages over 100k clients (10k of them
# with 60 messages over 3 conversations), then p50/p99 of one 50-message
# history page. Usage: bench/history/run.sh [messages clients]
exec "$(dirname "$0")/../run_engine_bench.sh" history "$@"
