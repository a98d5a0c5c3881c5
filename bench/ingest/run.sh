#!/usr/bin/env bash
# Ingest benchmark: how many inbound webhook messages per second Switchboard
# takes (each one durably committed to LMDB before its 200), next to nginx
# answering a static 200 to the same requests on the same machine.
#
#   bash bench/ingest/run.sh
#
# From a clean checkout: installs nginx and wrk (Debian packages) if missing,
# builds with .ci/build.sh build, then drives each server with
#   wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d$BENCH_DURATION --latency -s bench/ingest/post.lua
# and prints req/s and p99 of both and the ratio Switchboard/nginx.
#
# Env: BENCH_DURATION (10s), BENCH_THREADS (2), BENCH_CONNECTIONS (64),
#      BENCH_NO_BUILD=1 (use the existing binary), SB_BUILD_DIR (default build),
#      BENCH_KEEP=1 (keep the temp dir with configs, logs and data),
# After the Switchboard run the daemon is killed with SIGKILL and the stored
# inbound messages are counted (mdb_stat): fewer than the 200 answers fails.
# Only 127.0.0.1 is contacted; every process started here is stopped on exit.
set -eu

repo=$(cd "$(dirname "$0")/../.." && pwd)
here=$repo/bench/ingest
cd "$repo"
duration=${BENCH_DURATION:-10s}
threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNECTIONS:-64}
build=$(cd "$repo" && mkdir -p "${SB_BUILD_DIR:-build}" && cd "${SB_BUILD_DIR:-build}" && pwd)

say() { printf '==> %s\n' "$*"; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

# --- prerequisites ------------------------------------------------------------
bash "$repo/.ci/build.sh" deps bench
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  bash "$repo/.ci/build.sh" build
fi
[ -x "$build/switchboard" ] || die "$build/switchboard not found"
command -v nginx >/dev/null || die "nginx not found"
command -v wrk >/dev/null || die "wrk not found"
command -v mdb_stat >/dev/null || die "mdb_stat (lmdb-utils) not found"

# --- state and cleanup --------------------------------------------------------
tmp=$(mktemp -d /tmp/sb-bench.XXXXXX)
nginx_pid="" sb_pid=""
cleanup() {
  local rc=$?
  set +e
  if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
    kill -QUIT "$nginx_pid"; wait "$nginx_pid" 2>/dev/null
  fi
  if [ -n "$sb_pid" ] && kill -0 "$sb_pid" 2>/dev/null; then
    kill -TERM "$sb_pid"; wait "$sb_pid" 2>/dev/null
  fi
  if [ "${BENCH_KEEP:-0}" = 1 ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A port below the kernel's ephemeral range (so no outgoing connection holds
# it) that no TCP socket uses now.
free_port() {
  local lo p i hex
  lo=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$lo" -gt 11000 ] || lo=32768
  for i in $(seq 1 100); do
    p=$((10000 + RANDOM % (lo - 10000)))
    hex=$(printf ':%04X ' "$p")
    if ! cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '{print $2}' | grep -q "${hex% }\$"; then
      echo "$p"; return 0
    fi
  done
  die "no free port found"
}
wait_port() { # $1 port, $2 pid, $3 seconds
  local i
  for i in $(seq 1 $(($3 * 10))); do
    port_in_use "$1" && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# --- wrk and its numbers ------------------------------------------------------
# Prints "rps p99_ms ok200 non200 errors" for the run whose output is in $1.
parse_wrk() {
  awk '
    function ms(v) {
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
      if (v ~ /m$/)  return substr(v, 1, length(v) - 1) * 60000
      if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
      return v + 0
    }
    /^Requests\/sec:/           { rps = $2 }
    $1 == "99%"                 { p99 = ms($2) }
    /^BENCH /                   { for (i = 2; i <= NF; i++) { split($i, kv, "="); b[kv[1]] = kv[2] } }
    /Socket errors:/            { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) err += $i + 0 }
    END { printf "%s %s %d %d %d\n", (rps == "" ? 0 : rps), (p99 == "" ? 0 : p99),
                 b["ok200"], b["non200"], err }' "$1"
}

run_wrk() { # $1 label, $2 url
  say "wrk -t$threads -c$conns -d$duration --latency -s post.lua $2"
  BENCH_RUN_ID="$1-$$-$(date +%s)" wrk -t"$threads" -c"$conns" -d"$duration" --latency \
    -s "$here/post.lua" "$2" > "$tmp/wrk-$1.txt" 2>&1 || {
    cat "$tmp/wrk-$1.txt"; die "wrk failed against $1"; }
  sed 's/^/    /' "$tmp/wrk-$1.txt"
}

# --- nginx: the same requests answered with a static 200 -----------------------
mkdir -p "$tmp/nginx"
start_nginx() { # $1 port; sets nginx_pid
cat > "$tmp/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
master_process on;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$1;
    location / {
      default_type application/json;
      return 200 '{"message_id":"x"}';
    }
  }
}
EOF
nginx -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" 2>>"$tmp/nginx/stderr" &
nginx_pid=$!
wait_port "$1" "$nginx_pid" 10
}
for attempt in 1 2 3 4 5; do
  nport=$(free_port)
  start_nginx "$nport" && break
  kill -QUIT "$nginx_pid" 2>/dev/null; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=""
  [ "$attempt" -lt 5 ] || { tail -n 5 "$tmp/nginx/error.log" >&2; die "nginx did not start"; }
done
say "nginx $(nginx -v 2>&1 | sed 's/.*\///') on 127.0.0.1:$nport"
run_wrk nginx "http://127.0.0.1:$nport/"
kill -QUIT "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=""

# --- Switchboard: only the apichannel instance "bench", no secret -------------
mkdir -p "$tmp/sb/data"
cat > "$tmp/sb/switchboard.yaml" <<EOF
# Generated by bench/ingest/run.sh: one apichannel instance, no secret,
# default (durable) commits.
http:
  listen: 127.0.0.1:0
  max_body: 1MiB
  max_connections: 10000
  idle_timeout: 60s
storage:
  path: $tmp/sb/data
  map_size: 4GiB
log:
  level: info
plugins_dir: $build/plugins
plugins_strict: true
plugins:
  - name: apichannel
    instance: bench
    enabled: true
    config:
      secret: ""
      callback_url: ""
auth:
  api_tokens:
    - { name: crm, token: "", role: admin }
  bootstrap_admin: { login: admin, password: "" }
routing:
  default_group: support
  groups:
    - { id: support, name: Support, strategy: least_busy, max_per_operator: 3 }
EOF
"$build/switchboard" -c "$tmp/sb/switchboard.yaml" \
  --set http.listen=127.0.0.1:0 --set "storage.path=$tmp/sb/data" \
  --set "plugins_dir=$build/plugins" 2> "$tmp/sb/log" &
sb_pid=$!
sport=""
for _ in $(seq 1 300); do
  sport=$(sed -n 's/.*listening on 127\.0\.0\.1:\([1-9][0-9]*\).*/\1/p' "$tmp/sb/log" | head -n1)
  [ -z "$sport" ] || break
  kill -0 "$sb_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$sport" ]; then
  tail -n 30 "$tmp/sb/log" >&2; die "switchboard did not log 'listening on 127.0.0.1:PORT'"
fi
say "switchboard $("$build/switchboard" --version 2>&1 | head -n1) on 127.0.0.1:$sport"
run_wrk switchboard "http://127.0.0.1:$sport/hooks/apichannel/bench"

read -r n_rps n_p99 n_ok n_non n_err < <(parse_wrk "$tmp/wrk-nginx.txt")
read -r s_rps s_p99 s_ok s_non s_err < <(parse_wrk "$tmp/wrk-switchboard.txt")

# --- verify: nothing answered 200 is missing from the store --------------------
# The daemon is killed (-9: no clean shutdown to lean on), then the store's
# inbound dedup keys are counted with Debian's mdb_stat: one per stored
# inbound message (every request carries a new message_id).
kill -KILL "$sb_pid"
wait "$sb_pid" 2>/dev/null || true
sb_pid=""
stored=$(mdb_stat -s _dedup "$tmp/sb/data" 2>/dev/null | awk '/Entries:/ { print $2 }')
if [ -n "$stored" ] && [ "$stored" -ge "$s_ok" ]; then
  verify="ok: after kill -9, $stored messages stored >= $s_ok answered 200"
  verify_ok=1
else
  verify="FAILED: after kill -9, ${stored:-?} messages stored < $s_ok answered 200"
  verify_ok=0
fi

# --- table --------------------------------------------------------------------
echo
printf 'ingest: wrk -t%s -c%s -d%s, %s cores, POST JSON to the webhook\n' "$threads" "$conns" "$duration" "$(nproc)"
printf '%-12s %12s %10s %10s %8s %8s\n' peer req/s p99_ms 200s non-200 sock_err
printf '%-12s %12.0f %10.2f %10d %8d %8d\n' nginx "$n_rps" "$n_p99" "$n_ok" "$n_non" "$n_err"
printf '%-12s %12.0f %10.2f %10d %8d %8d\n' switchboard "$s_rps" "$s_p99" "$s_ok" "$s_non" "$s_err"
awk -v sr="$s_rps" -v nr="$n_rps" -v sp="$s_p99" -v np="$n_p99" 'BEGIN {
  printf "%-12s %12s %10s\n", "ratio sb/ng", (nr > 0 ? sprintf("%.3f", sr / nr) : "-"),
                                           (np > 0 ? sprintf("%.2f", sp / np) : "-") }'
echo "verify: $verify"

[ "$s_ok" -gt 0 ] || die "switchboard answered no request with 200"
[ "$verify_ok" = 1 ] || exit 1
