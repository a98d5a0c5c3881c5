#!/bin/sh
# Routing benchmark: 10k operators in 100 groups, 100k queued
# conversations; prints decision latencies (p50/p99) and the memory the
# routing state takes. Usage: bench/routing/run.sh [operators groups conversations]
exec "$(dirname "$0")/../run_engine_bench.sh" routing "$@"
