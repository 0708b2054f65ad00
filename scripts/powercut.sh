#!/usr/bin/env bash
# A power-cut test anyone can repeat (issue 27).
#
# Mounts LazyFS (a FUSE file system with its own page cache, which drops
# every byte not fsynced when told `lazyfs::clear-cache`) in a temporary
# directory and runs tests/powercut.rs on it: the release server writes
# under mixed load, is killed, the power is "cut" (clear-cache) and the
# server restarted, N times; every write it acknowledged must come back
# and `jobbridge check` must pass. Prints a line per cut and a total
# ("cuts: 20, acknowledged writes: N, lost: 0, ..."); exits non-zero if an
# acknowledged write was lost or a check failed.
#
# Usage:  LAZYFS=/path/to/lazyfs scripts/powercut.sh [CUTS]
#
#   LAZYFS   a built checkout of github.com/dsrhaslab/lazyfs (this script
#            runs $LAZYFS/lazyfs/build/lazyfs; it never builds LazyFS)
#   CUTS     power cuts (default: $JOBBRIDGE_POWERCUT_CUTS, else 20)
#   POWERCUT_CACHE   LazyFS cache size (default 2gb, which LazyFS takes
#            as memory when it starts; it must hold every byte read or
#            written between two cuts, as eviction is off)
#   JOBBRIDGE_POWERCUT_SEED   replays the clients' choices of a run
#
# Needs FUSE (/dev/fuse, fusermount3 from Debian's fuse3) and the rights to
# mount with it. On failure the logs are kept and their place printed.
set -euo pipefail

need="a LazyFS build: github dsrhaslab/lazyfs, built with Debian's g++ cmake libfuse3-dev fuse3 libtoml11-dev libspdlog-dev"

die() {
    echo "powercut.sh: $*" >&2
    exit 2
}

case "${1:-}" in
-h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 0
    ;;
esac

[[ -n "${LAZYFS:-}" ]] || die "LAZYFS is not set. Set it to the directory of $need."
lazyfs_bin="$LAZYFS/lazyfs/build/lazyfs"
[[ -x "$lazyfs_bin" ]] || die "$lazyfs_bin is missing or not executable: LAZYFS must be the directory of $need."
command -v fusermount3 >/dev/null || die "fusermount3 not found (Debian package fuse3)."
command -v setsid >/dev/null || die "setsid not found (Debian package util-linux)."
[[ -e /dev/fuse ]] || die "/dev/fuse not found: FUSE is not available here."

cuts="${1:-${JOBBRIDGE_POWERCUT_CUTS:-20}}"
[[ "$cuts" =~ ^[1-9][0-9]*$ ]] || die "CUTS must be a positive whole number, got '$cuts'."
cache_size="${POWERCUT_CACHE:-2gb}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

work="$(mktemp -d "${TMPDIR:-/tmp}/jobbridge-powercut.XXXXXX")"
mnt="$work/mnt"
root="$work/root"
logs="$work/logs"
mkdir -p "$mnt" "$root" "$logs"
lazyfs_pid=""
test_pid=""
status=1

mounted() {
    grep -qs " $mnt fuse" /proc/mounts
}

# Waits up to $1 tenths of a second for LazyFS to exit.
stop_lazyfs() {
    for _ in $(seq "$1"); do
        kill -0 "$lazyfs_pid" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

# Waits up to $1 tenths of a second for the test's process group (cargo,
# the test, the servers it started) to end.
stop_test() {
    for _ in $(seq "$1"); do
        kill -0 -- "-$test_pid" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

cleanup() {
    status=$?
    set +e
    if [[ -n "$test_pid" ]] && kill -0 -- "-$test_pid" 2>/dev/null; then
        # Interrupted: stop the test and the servers it runs on the mount
        # (SIGTERM lets a server stop cleanly), so that it can be unmounted.
        kill -TERM -- "-$test_pid" 2>/dev/null
        stop_test 100 || { kill -KILL -- "-$test_pid" 2>/dev/null; stop_test 50; }
    fi
    if mounted; then
        fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt"
    fi
    if [[ -n "$lazyfs_pid" ]]; then
        # Unmounting ends LazyFS (with "terminate called without an active
        # exception" in its log: its fault thread is not joined, harmless);
        # stop it if it hangs on.
        stop_lazyfs 50 || { kill "$lazyfs_pid" 2>/dev/null; stop_lazyfs 50; } ||
            kill -KILL "$lazyfs_pid" 2>/dev/null
    fi
    if [[ $status -eq 0 ]]; then
        rm -rf "$work"
    else
        # Keep the logs (server logs, LazyFS's log, its config), not the data.
        rm -rf "$mnt" "$root"
        echo "powercut.sh: failed (exit $status); logs kept in $work" >&2
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$work/lazyfs.toml" <<EOF
# Written by scripts/powercut.sh for one run.
[faults]
fifo_path="$work/faults.fifo"
fifo_path_completed="$work/done.fifo"
[cache]
apply_eviction=false
[cache.simple]
custom_size="$cache_size"
blocks_per_page=1
[filesystem]
log_all_operations=false
logfile=""
EOF

echo "powercut.sh: mounting LazyFS on $mnt (root $root, cache $cache_size)"
"$lazyfs_bin" "$mnt" --config-path "$work/lazyfs.toml" \
    -o modules=subdir -o subdir="$root" -f >"$work/lazyfs.log" 2>&1 &
lazyfs_pid=$!
# Not a job of this shell: its abort at exit (see cleanup) is not reported.
disown "$lazyfs_pid"
# LazyFS fills its whole cache before it mounts: seconds on a busy machine.
for _ in $(seq 600); do
    if mounted && [[ -p "$work/faults.fifo" && -p "$work/done.fifo" ]]; then
        break
    fi
    kill -0 "$lazyfs_pid" 2>/dev/null || break
    sleep 0.1
done
if ! mounted; then
    cat "$work/lazyfs.log" >&2
    die "LazyFS did not mount on $mnt (its log is above)."
fi

cd "$repo"
started=$SECONDS
# In a process group of its own, waited for in the background: a signal to
# this script then runs the cleanup at once, which stops the whole group.
JOBBRIDGE_POWERCUT_DIR="$mnt" \
    JOBBRIDGE_POWERCUT_FIFO="$work/faults.fifo" \
    JOBBRIDGE_POWERCUT_DONE_FIFO="$work/done.fifo" \
    JOBBRIDGE_POWERCUT_CUTS="$cuts" \
    JOBBRIDGE_POWERCUT_LOGS="$logs" \
    setsid "${CARGO:-cargo}" test --release --test powercut -- --nocapture &
test_pid=$!
wait "$test_pid"
echo "powercut.sh: passed in $((SECONDS - started)) s"
