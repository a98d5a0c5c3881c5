#!/usr/bin/env bash
# The project's one entry point, for people and for CI (.ci/run).
#
#   bash .ci/build.sh build         install missing Debian packages, build build/ (Release)
#   bash .ci/build.sh run [ARGS]    build, then run build/switchboard -c conf/switchboard.yaml ARGS
#   bash .ci/build.sh test          build build/ and build-asan/ (ASan+UBSan), run ctest in both,
#                                   then the node:test integration suite against build/
#   bash .ci/build.sh deps VERB     only install the Debian packages VERB needs
#                                   (VERB: build, run, test, bench)
#
# Meant for a fresh Debian 12 as root: missing packages are installed with
# apt-get (only when something is missing; nothing is downloaded otherwise).
# As another user it works when the packages are already there.
# Env: SB_NODE_TIMEOUT (seconds for the node suite, default 1200),
#      CTEST_PARALLEL_LEVEL (ctest's own), SB_SKIP_ASAN=1 (skip build-asan),
#      SB_INTEGRATION_ASAN=1 (also run the node suite against build-asan).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
jobs=$(nproc 2>/dev/null || echo 2)

say() { printf '==> %s\n' "$*"; }
die() { printf 'build.sh: error: %s\n' "$*" >&2; exit 1; }
policy=""

# --- Debian packages, per verb ----------------------------------------------
PKGS_build="gcc libc6-dev cmake ninja-build pkg-config ca-certificates
  libev-dev liblmdb-dev libmsgpack-dev libyaml-dev libjansson-dev
  libcurl4-openssl-dev libmbedtls-dev libhttp-parser-dev libwslay-dev
  libstemmer-dev libcmocka-dev"
PKGS_run="$PKGS_build"
# + node and npm, see node_pkgs; chromium runs the web pages' browser tests
# (tests/integration/lib/browser.js, through npm playwright-core)
PKGS_test="$PKGS_build chromium"
PKGS_bench="$PKGS_build nginx wrk lmdb-utils"

# Node may come from Debian (nodejs 18 + npm 9) or elsewhere (NodeSource):
# ask for Debian's packages only when the commands are missing.
node_pkgs() {
  if ! command -v node >/dev/null 2>&1; then echo "nodejs npm"
  elif ! command -v npm >/dev/null 2>&1; then echo "npm"
  fi
}

missing_pkgs() { # $@: package names -> prints those not installed
  local have
  have=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null \
         | awk '$2 == "ii" { print $1 }') || true
  local p
  for p in "$@"; do
    printf '%s\n' "$have" | grep -qx -- "$p" || printf '%s ' "$p"
  done
}

ensure_pkgs() { # $1: verb
  local verb=$1 want missing log
  case "$verb" in
    build) want=$PKGS_build ;;
    run) want=$PKGS_run ;;
    test) want="$PKGS_test $(node_pkgs)" ;;
    bench) want=$PKGS_bench ;;
    *) die "no package list for '$verb'" ;;
  esac
  command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script expects Debian 12"
  # shellcheck disable=SC2086
  missing=$(missing_pkgs $want)
  [ -n "$missing" ] || return 0
  if [ "$(id -u)" != 0 ]; then
    printf 'build.sh: these Debian packages are missing: %s\n' "$missing" >&2
    printf 'build.sh: run this script as root, or install them first:\n' >&2
    printf '  apt-get update && apt-get install -y --no-install-recommends %s\n' "$missing" >&2
    exit 1
  fi
  say "installing Debian packages: $missing"
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp /tmp/sb-apt.XXXXXX)
  # Debian's nginx starts a system service on :80 when installed; the
  # benchmark runs its own instance, so keep invoke-rc.d from starting one.
  if [ "$verb" = bench ] && [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    trap 'rm -f "$policy"' EXIT
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"
  fi
  local rc=0
  # shellcheck disable=SC2086
  { apt-get update -q && apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 $missing; } \
    > "$log" 2>&1 || rc=$?
  if [ -n "$policy" ]; then rm -f "$policy"; policy=""; trap - EXIT; fi
  if [ $rc -ne 0 ]; then
    tail -n 40 "$log" >&2; rm -f "$log"
    die "apt-get failed (exit $rc) installing: $missing"
  fi
  rm -f "$log"
  # shellcheck disable=SC2086
  missing=$(missing_pkgs $want)
  [ -z "$missing" ] || die "still missing after apt-get: $missing"
}

check_node() {
  command -v node >/dev/null 2>&1 || die "node not found"
  node -e 'process.exit(+process.versions.node.split(".")[0] >= 18 ? 0 : 1)' \
    || die "node $(node --version) is too old: the integration tests need Node 18 or newer"
}

# --- build ------------------------------------------------------------------
configure_and_build() { # $1: dir, $2: build type, $@: extra cmake args
  local dir=$1 type=$2 gen=()
  shift 2
  # Pick a generator only for a new tree: an existing one keeps its own.
  if [ ! -f "$dir/CMakeCache.txt" ] && command -v ninja >/dev/null 2>&1; then
    gen=(-G Ninja)
  fi
  say "configure $dir ($type${*:+ $*})"
  cmake -S "$repo" -B "$dir" "${gen[@]}" -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
  say "build $dir (-j$jobs)"
  cmake --build "$dir" -j"$jobs"
}

build_release() { configure_and_build "$repo/build" Release; }
build_asan() { configure_and_build "$repo/build-asan" Debug -DSB_SANITIZE=ON; }

# --- test helpers -------------------------------------------------------------
passed=0 failed=0 skipped=0
stages=()
note_stage() { stages+=("$1"); }

# LeakSanitizer needs ptrace-like access to the process; some sandboxes deny
# it. Probe with a program that leaks on purpose: use detect_leaks=1 when the
# leak is reported, else fall back to 0 and say so.
lsan_probe() {
  local d out cc
  cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$repo/build-asan/CMakeCache.txt" 2>/dev/null)
  cc=${cc:-${CC:-cc}}
  d=$(mktemp -d /tmp/sb-lsan.XXXXXX)
  printf '#include <stdlib.h>\nvoid *volatile p;\nint main(void){p=malloc(7);p=0;return 0;}\n' > "$d/p.c"
  if "$cc" -fsanitize=address -g "$d/p.c" -o "$d/p" >/dev/null 2>&1; then
    out=$(ASAN_OPTIONS=detect_leaks=1 "$d/p" 2>&1 || true)
  else
    out=""
  fi
  rm -rf "$d"
  case "$out" in
    *"detected memory leaks"*) echo 1 ;;
    *) echo 0 ;;
  esac
}

run_ctest() { # $1: build dir, $2: label
  local dir=$1 label=$2 log rc t p f line
  log=$(mktemp /tmp/sb-ctest.XXXXXX)
  say "ctest in $label"
  set +e
  ctest --test-dir "$dir" --output-on-failure 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n1 || true)
  if [ -n "$line" ]; then
    t=$(printf '%s' "$line" | sed -E 's/.*out of ([0-9]+).*/\1/')
    f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) tests? failed.*/\1/')
    p=$((t - f))
  elif grep -q 'No tests were found' "$log"; then
    t=0 f=0 p=0
  else
    t=0 f=0 p=0
    [ "$rc" -eq 0 ] || f=1 # ctest failed before running anything
  fi
  rm -f "$log"
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" -eq 0 ]; then note_stage "ctest $label: $p/$t passed"
  else note_stage "ctest $label: FAILED ($f of $t failed, exit $rc)"; [ "$f" -gt 0 ] || failed=$((failed + 1)); fi
}

npm_install() {
  local tdir=$repo/tests
  if [ -d "$tdir/node_modules" ] && [ -f "$tdir/node_modules/.package-lock.json" ] \
     && ! [ "$tdir/package-lock.json" -nt "$tdir/node_modules/.package-lock.json" ]; then
    return 0
  fi
  say "npm ci in tests/"
  (cd "$tdir" && npm ci --no-audit --no-fund --loglevel=error)
}

run_node_tests() { # $1: build dir, $2: label
  local dir=$1 label=$2 files log rc p f s reporter=()
  mapfile -t files < <(find tests/integration -name '*.test.js' | sort)
  if [ ${#files[@]} -eq 0 ]; then note_stage "node $label: no test files"; return 0; fi
  check_node
  if ! npm_install; then
    note_stage "node $label: FAILED (npm ci)"; failed=$((failed + 1)); return 0
  fi
  # TAP everywhere (its closing "# pass N / # fail N" is what CI reads);
  # --test-reporter exists from Node 18.15.
  if node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>18||b>=15?0:1)'; then
    reporter=(--test-reporter=tap)
  fi
  log=$(mktemp /tmp/sb-node.XXXXXX)
  say "node --test (${#files[@]} files) against $label/ ($(node --version))"
  set +e
  SB_BUILD_DIR=$dir timeout -k 10 "${SB_NODE_TIMEOUT:-1200}" \
    node --test "${reporter[@]}" "${files[@]}" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -n1)
  f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -n1)
  s=$(sed -n 's/^# \(skipped\|todo\) \([0-9]*\)$/\2/p' "$log" | awk '{n+=$1} END {print n+0}')
  rm -f "$log"
  p=${p:-0} f=${f:-0}
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  if [ "$rc" -eq 0 ]; then note_stage "node $label: $p passed, $f failed"
  else
    [ "$rc" -ne 124 ] || say "node suite timed out after ${SB_NODE_TIMEOUT:-1200}s"
    note_stage "node $label: FAILED ($f failed, exit $rc)"; [ "$f" -gt 0 ] || failed=$((failed + 1))
  fi
}

verb_test() {
  local t0=$SECONDS leaks
  ensure_pkgs test
  build_release
  [ "${SB_SKIP_ASAN:-0}" = 1 ] || build_asan

  run_ctest "$repo/build" build
  if [ "${SB_SKIP_ASAN:-0}" != 1 ]; then
    leaks=$(lsan_probe)
    [ "$leaks" = 1 ] || say "LeakSanitizer cannot run here (ptrace denied?): detect_leaks=0"
    ASAN_OPTIONS="detect_leaks=$leaks:abort_on_error=0:${ASAN_OPTIONS:-}" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}" \
      run_ctest "$repo/build-asan" build-asan
  fi
  run_node_tests "$repo/build" build
  if [ "${SB_SKIP_ASAN:-0}" != 1 ] && [ "${SB_INTEGRATION_ASAN:-0}" = 1 ]; then
    ASAN_OPTIONS="detect_leaks=$leaks:abort_on_error=0:${ASAN_OPTIONS:-}" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}" \
      run_node_tests "$repo/build-asan" build-asan
  fi

  echo
  say "results ($((SECONDS - t0))s):"
  local st
  for st in "${stages[@]}"; do printf '    %s\n' "$st"; done
  if [ "$skipped" -gt 0 ]; then
    printf 'summary: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
  else
    printf 'summary: %d passed, %d failed\n' "$passed" "$failed"
  fi
  [ "$failed" -eq 0 ]
}

verb=${1:-}
[ $# -eq 0 ] || shift
case "$verb" in
  build)
    ensure_pkgs build
    build_release
    say "built $repo/build/switchboard"
    ;;
  run)
    ensure_pkgs run
    build_release
    say "exec build/switchboard -c conf/switchboard.yaml $*"
    exec "$repo/build/switchboard" -c conf/switchboard.yaml "$@"
    ;;
  test)
    verb_test
    ;;
  deps)
    [ $# -ge 1 ] || die "usage: build.sh deps build|run|test|bench"
    ensure_pkgs "$1"
    ;;
  *)
    sed -n '2,16p' "$0" >&2
    exit 2
    ;;
esac
