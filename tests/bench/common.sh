# shellcheck shell=bash
# What tests/bench/diff.sh and tests/bench/shards.sh share, sourced with the
# script's arguments after `set -euo pipefail`: the options (--smoke,
# --build DIR, --out FILE, --keep, --help: the script's leading comment),
# the check that certsweep, certsweep-fleet and GNU time are there, a work
# directory removed at exit (with the fleet, if one runs), log, and
# fleet_start / fleet_stop.  bench_default_out FILE: the report goes to
# tests/bench/FILE unless --out or --smoke says otherwise.

bench_name=$(basename "$0")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
smoke=0
build="$root/build"
out=""
keep=0
# shellcheck disable=SC2034 # cmdline and load: for the report of the script that sources this
cmdline="tests/bench/$bench_name${*:+ $*}"
while [ $# -gt 0 ]; do
    case "$1" in
    --smoke) smoke=1 ;;
    --build) build=$(cd "$2" && pwd); shift ;;
    --out) out=$2; shift ;;
    --keep) keep=1 ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "$bench_name: unknown option $1 (try --help)" >&2; exit 64 ;;
    esac
    shift
done
cs="$build/certsweep"
fleet_bin="$build/certsweep-fleet"
for b in "$cs" "$fleet_bin"; do
    [ -x "$b" ] || { echo "$bench_name: $b not built: cmake -S . -B build && cmake --build build" >&2; exit 66; }
done
[ -x /usr/bin/time ] || { echo "$bench_name: needs GNU time (/usr/bin/time)" >&2; exit 66; }

bench_default_out() { [ -n "$out" ] || { [ $smoke = 1 ] || out="$here/$1"; }; }

work=$(mktemp -d "${TMPDIR:-/tmp}/certsweep-bench-${bench_name%.sh}.XXXXXX")
fleet_pid=""
cleanup() {
    [ -z "$fleet_pid" ] || { kill "$fleet_pid" 2>/dev/null || true; wait "$fleet_pid" 2>/dev/null || true; }
    if [ $keep = 0 ]; then rm -rf "$work"; else echo "$bench_name: kept $work" >&2; fi
}
trap cleanup EXIT
# shellcheck disable=SC2034
load=$(cut -d" " -f1-3 /proc/loadavg)
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# fleet_ready PID LOG: waits until the fleet PID says in LOG it is ready (two
# minutes at the most); exits 70 with its log if it never does.
fleet_ready() {
    for ((i = 0; i < 1200; i++)); do
        grep -q '^ready' "$2" 2>/dev/null && break
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    grep -q '^ready' "$2" || { cat "$2" >&2; exit 70; }
}

# fleet_start ARGS...: certsweep-fleet --dir $work/fleet ARGS, in the
# background, until it says it is ready.
fleet_start() {
    "$fleet_bin" --dir "$work/fleet" "$@" >"$work/fleet.log" 2>&1 &
    fleet_pid=$!
    fleet_ready "$fleet_pid" "$work/fleet.log"
}
fleet_stop() { kill "$fleet_pid"; wait "$fleet_pid" 2>/dev/null || true; fleet_pid=""; }
