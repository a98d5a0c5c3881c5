#!/bin/sh
# Text bot search benchmark (issue 8, item 5): generates a knowledge base of
# >= 10k Russian bank/shop FAQ articles and labelled client questions
# (gen.py), then ranks the same questions with our library
# (plugins/textbot, bench_textbot.c), Xapian (peer_xapian.py) and
# PostgreSQL's russian full-text search (peer_postgres.sql, a throw-away
# cluster on 127.0.0.1 in a temp dir). Prints engine, MRR@3, p50/p99 ms.
# Usage: bench/textbot/run.sh [questions [repeats]]   (defaults 200, 20)
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/textbot
BUILD=${BUILD:-$ROOT/build-bench}
NQ=${1:-200}
REPS=${2:-20}
PY=/usr/bin/python3              # Debian's python3: python3-xapian lives there
WORK=$(mktemp -d /tmp/sb-bench-textbot-XXXXXX)
chmod 755 "$WORK"
PGBIN=
PGRUN=
cleanup() {
    if [ -n "$PGBIN" ] && [ -f "$WORK/pg/postmaster.pid" ]; then
        $PGRUN "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Debian packages, installed only when missing (root only).
need() {
    if ! dpkg -s "$1" >/dev/null 2>&1; then
        [ "$(id -u)" = 0 ] || { echo "missing package $1 (apt-get install $1)" >&2; exit 1; }
        echo "installing $1" >&2
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q "$1" >/dev/null
    fi
}
need libstemmer-dev; need libjansson-dev; need postgresql; need python3-xapian

echo "generating knowledge base and questions" >&2
$PY "$HERE/gen.py" "$WORK" "$NQ"
chmod 644 "$WORK"/*

echo "building" >&2
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" --target textbot_search -j"$(nproc)" >/dev/null
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -I"$ROOT/plugins/textbot" -I"$ROOT/sdk/include" \
   "$HERE/bench_textbot.c" "$BUILD/plugins/textbot/libtextbot_search.a" \
   -ljansson -lstemmer -lm -o "$WORK/bench_textbot"

echo "running: switchboard textbot" >&2
timeout 300 "$WORK/bench_textbot" "$WORK" "$REPS" > "$WORK/results"
echo "running: xapian" >&2
timeout 600 $PY "$HERE/peer_xapian.py" "$WORK" "$REPS" >> "$WORK/results"

echo "running: postgres" >&2
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
if [ "$(id -u)" = 0 ]; then   # initdb refuses root: run the cluster as postgres (or nobody)
    U=postgres; id "$U" >/dev/null 2>&1 || U=nobody
    PGRUN="runuser -u $U --"
    mkdir "$WORK/pg" "$WORK/sock"; chown "$U" "$WORK/pg" "$WORK/sock"
else
    mkdir "$WORK/pg" "$WORK/sock"
fi
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
$PGRUN "$PGBIN/initdb" -D "$WORK/pg" -U bench --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
$PGRUN "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/sock/log" -w -t 60 \
    -o "-p $PORT -k $WORK/sock -c listen_addresses=127.0.0.1 -c shared_buffers=128MB" start >/dev/null
$PY - "$WORK" <<'PYEOF'
import json, sys
d = sys.argv[1]
with open(d + "/kb.jsonl") as f, open(d + "/kb.tsv", "w") as o:
    for line in f:
        a = json.loads(line)
        kw = " ".join(a["keywords"] + a["misspellings"])
        row = [a["id"], a["title"], kw, a["body"]]
        o.write("\t".join(x.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ") for x in row) + "\n")
PYEOF
(cd "$WORK" && timeout 900 psql -X -q -h 127.0.0.1 -p "$PORT" -U bench -d postgres \
    -v reps="$REPS" -f "$HERE/peer_postgres.sql") >> "$WORK/results"

printf '\n%d articles, %d questions, %d timed runs each\n' \
    "$(wc -l < "$WORK/kb.jsonl")" "$(wc -l < "$WORK/questions.tsv")" "$REPS"
printf '%-38s %7s %9s %9s\n' engine 'MRR@3' 'p50 ms' 'p99 ms'
awk -F'\t' '{ printf "%-38s %7s %9s %9s\n", $1, $2, $3, $4 }' "$WORK/results"
