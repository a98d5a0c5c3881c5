#!/usr/bin/env bash
# Proves the README promise: on a fresh Debian 12 (minbase, nothing else
# installed) `bash .ci/build.sh test` as root installs what it needs, builds
# and passes. Builds a minbase bookworm chroot with debootstrap (cached as a
# tarball), copies this checkout into it without build output, and runs the
# verb inside. Needs root on a Debian/Ubuntu host with mount privileges.
#
#   bash .ci/chroot-check.sh [--verb test|build] [--keep] [--bootstrap-only] [--refresh]
#
#   --verb V          what to run inside (default: test)
#   --keep            leave the chroot directory behind (printed at the end)
#   --bootstrap-only  only create the cached minbase tarball, run nothing
#   --refresh         rebuild the cached tarball even if present
# Env: SB_CHROOT_CACHE (default /var/cache/sb-chroot/bookworm.tgz),
#      SB_CHROOT_MIRROR (default: the Debian mirror this host's apt uses).
set -eu

verb=test keep=0 bootstrap_only=0 refresh=0
while [ $# -gt 0 ]; do
  case "$1" in
    --verb) verb="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    --bootstrap-only) bootstrap_only=1; shift ;;
    --refresh) refresh=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "chroot-check: unknown argument: $1" >&2; exit 2 ;;
  esac
done

say() { printf 'chroot-check: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, mount, chroot)"
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${SB_CHROOT_CACHE:-/var/cache/sb-chroot/bookworm.tgz}

# --- the Debian mirror this host's apt is configured with -------------------
# deb822 (*.sources: "URIs:" + "Suites:") and one-line (sources.list) formats.
find_mirror() { # $1: suite to look for (bookworm | bookworm-security)
  local suite=$1 f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v want="$suite" '
      BEGIN { RS=""; FS="\n" }
      { uri=""; ok=0; en=1
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/)    { sub(/^URIs:[ \t]*/, "", $i); split($i, u, /[ \t]+/); uri=u[1] }
          if ($i ~ /^Suites:/)  { n = split($i, s, /[ \t]+/); for (j = 2; j <= n; j++) if (s[j] == want) ok=1 }
          if ($i ~ /^Enabled:[ \t]*no/) en=0
        }
        if (ok && en && uri != "") { print uri; exit }
      }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v want="$suite" '$1 == "deb" {
        i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i+1) == want) { print $i; exit } }' "$f"
  done
}
mirror=${SB_CHROOT_MIRROR:-$(find_mirror bookworm | head -n1)}
mirror=${mirror:-http://deb.debian.org/debian}
security=$(find_mirror bookworm-security | head -n1)

# --- state and cleanup (always: unmount before anything is removed) --------
root=""
mounts=()
cleanup() {
  local rc=$? i
  set +e
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null
  done
  if [ -n "$root" ] && [ -d "$root" ]; then
    if grep -q " $root/" /proc/mounts; then
      say "mounts still active under $root; NOT removing it"
    elif [ "$keep" = 1 ]; then
      say "kept chroot at $root"
    else
      rm -rf --one-file-system "$root"
    fi
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the cached minbase tarball ---------------------------------------------
make_cache() {
  if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  fi
  local dir t0
  dir=$(mktemp -d /var/tmp/sb-debootstrap.XXXXXX)
  root=$dir # cleaned up by the trap if anything fails
  say "debootstrap --variant=minbase bookworm from $mirror"
  t0=$SECONDS
  debootstrap --variant=minbase bookworm "$dir" "$mirror" > "$dir.log" 2>&1 \
    || { tail -n 30 "$dir.log" >&2; rm -f "$dir.log"; die "debootstrap failed"; }
  rm -f "$dir.log"
  say "debootstrap took $((SECONDS - t0))s"
  # The apt sources a fresh install has: main, updates, security.
  {
    echo "deb $mirror bookworm main"
    echo "deb $mirror bookworm-updates main"
    [ -z "$security" ] || echo "deb $security bookworm-security main"
  } > "$dir/etc/apt/sources.list"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  mkdir -p "$(dirname "$cache")"
  tar --numeric-owner -C "$dir" -czf "$cache.tmp" .
  mv "$cache.tmp" "$cache"
  say "cached $cache ($(du -h "$cache" | cut -f1))"
  rm -rf --one-file-system "$dir"
  root=""
}

if [ "$refresh" = 1 ] || [ ! -s "$cache" ]; then
  make_cache
else
  say "reusing $cache"
fi
[ "$bootstrap_only" = 0 ] || exit 0

# --- a fresh chroot from the tarball ----------------------------------------
root=$(mktemp -d /var/tmp/sb-chroot.XXXXXX)
tar --numeric-owner -C "$root" -xzpf "$cache"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# A host behind a TLS-intercepting proxy trusts local CAs; the chroot must too
# or npm cannot reach its registry. Carry them over (ca-certificates picks up
# /usr/local/share/ca-certificates when it is installed), and Node's extra CAs.
extra_env=()
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r "$NODE_EXTRA_CA_CERTS" ]; then
  cp -L "$NODE_EXTRA_CA_CERTS" "$root/etc/sb-host-extra-ca.pem"
  extra_env+=(NODE_EXTRA_CA_CERTS=/etc/sb-host-extra-ca.pem)
fi

mount -t proc proc "$root/proc";            mounts+=("$root/proc")
mount -t sysfs sysfs "$root/sys";           mounts+=("$root/sys")
mount --bind /dev "$root/dev";              mounts+=("$root/dev")
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"; mounts+=("$root/dev/pts")
mount -t tmpfs tmpfs "$root/dev/shm";       mounts+=("$root/dev/shm")

# --- the checkout, as a fresh clone would have it ---------------------------
# Tracked and untracked-but-not-ignored files (so .gitignore keeps build dirs,
# node_modules and data out); without git, a tar with the same exclusions.
mkdir -p "$root/src"
if command -v git >/dev/null 2>&1 && git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$repo" && git ls-files -z -co --exclude-standard \
     | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
     | tar --null -T - -cf -) | tar -C "$root/src" -xf -
else
  tar -C "$repo" --exclude='./build*' --exclude='node_modules' --exclude='./data' \
      --exclude='./.git' --exclude='./tests/.tmp' -cf - . | tar -C "$root/src" -xf -
fi
say "copied $(find "$root/src" -type f | wc -l) files of $repo into $root/src"

# --- run ----------------------------------------------------------------------
say "running 'bash .ci/build.sh $verb' in the chroot (as root, CI=true, no stdin)"
t0=$SECONDS
set +e
chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 CI=true TERM=dumb "${extra_env[@]}" \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  bash -c "cd /src && bash .ci/build.sh $verb" </dev/null
rc=$?
set -e
if [ $rc -eq 0 ]; then
  say "PASS: 'bash .ci/build.sh $verb' on fresh Debian 12 minbase in $((SECONDS - t0))s"
else
  say "FAIL (exit $rc): 'bash .ci/build.sh $verb' on fresh Debian 12 minbase after $((SECONDS - t0))s"
fi
exit $rc
