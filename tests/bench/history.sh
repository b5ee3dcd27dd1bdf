#!/usr/bin/env bash
# What --history costs: the extra wall time and peak RSS it adds to a large
# scan, and the database's size per observation.  One fleet (8 ports on
# 127.0.0.1 serving *.bulk.test leafs over TLS 1.2 with RSA key transport, as
# tests/bench/run's JSONL stream), N names under *.bulk.test pinned with
# --resolve, JSONL to a file, -j 2000, --cert-only.  Four scans in turn:
# without history, with history into a new database (every observation new),
# without, with history into the same database (every endpoint looked up and
# found: the nightly case).  The two without give the noise between runs.
# Then certsweep-bench-history (tests/bench/history.c) times the history layer
# alone on N synthetic records: its CPU per record, which a loaded machine
# does not blur as it blurs wall time.
#
#   tests/bench/history.sh              1,000,000 targets (about 20 minutes on 2 cores)
#   tests/bench/history.sh --smoke      20,000 targets
#   tests/bench/history.sh -n 100000    any other count
#
# Options: --build DIR (default: build), --out FILE (default: standard output),
# --keep (keep the work dir).  Needs a built certsweep and certsweep-fleet, GNU
# time and sqlite3 (the command-line shell, for the page counts).  Every
# connection goes to 127.0.0.1.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build="$root/build"
n=1000000
out=""
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
    --smoke) n=20000 ;;
    -n) n=$2; shift ;;
    --build) build=$(cd "$2" && pwd); shift ;;
    --out) out=$2; shift ;;
    --keep) keep=1 ;;
    -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "history.sh: unknown option $1 (try --help)" >&2; exit 64 ;;
    esac
    shift
done
cs="$build/certsweep"
fleet_bin="$build/certsweep-fleet"
for b in "$cs" "$fleet_bin"; do
    [ -x "$b" ] || { echo "history.sh: $b not built" >&2; exit 66; }
done
[ -x /usr/bin/time ] || { echo "history.sh: needs GNU time (/usr/bin/time)" >&2; exit 66; }
command -v sqlite3 >/dev/null || { echo "history.sh: needs the sqlite3 shell" >&2; exit 66; }
ulimit -n "$(ulimit -Hn)"

PORTS=8
BASE=21500
J=2000
work=$(mktemp -d "${TMPDIR:-/tmp}/certsweep-history-bench.XXXXXX")
fleet_pid=""
cleanup() {
    [ -n "$fleet_pid" ] && { kill "$fleet_pid" 2>/dev/null || true; wait "$fleet_pid" 2>/dev/null || true; }
    if [ $keep = 0 ]; then rm -rf "$work"; else echo "history.sh: kept $work" >&2; fi
}
trap cleanup EXIT
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
calc() { awk "BEGIN { printf \"%.${2:-2}f\", ($1) }"; }

"$fleet_bin" --dir "$work/fleet" --bulk $PORTS --bulk-port-base $BASE --wildcard --rsa-kx \
    --threads 2 >"$work/fleet.log" 2>&1 &
fleet_pid=$!
for ((i = 0; i < 1200; i++)); do
    grep -q '^ready' "$work/fleet.log" 2>/dev/null && break
    kill -0 "$fleet_pid" 2>/dev/null || { cat "$work/fleet.log" >&2; exit 70; }
    sleep 0.1
done
awk -v n="$n" -v b=$BASE -v p=$PORTS \
    'BEGIN { for (i = 1; i <= n; i++) printf "h%07d.bulk.test:%d\n", i, b + i % p }' >"$work/targets.txt"

# run KEY [ARGS...]: one scan under GNU time; "wall rss_kb exit certs cpu" in $work/m.KEY
run() {
    local key=$1 rc=0
    shift
    log "$key: $n targets $*"
    /usr/bin/time -f '%e %M %U %S' -o "$work/time.$key" "$cs" -q --cert-only --ca-file "$work/fleet/ca.pem" \
        --resolve '*.bulk.test:*:127.0.0.1' -j $J --per-address $J -f "$work/targets.txt" \
        -o "$work/$key.jsonl" "$@" 2>"$work/err.$key" || rc=$?
    read -r wall rss user sys < <(tail -1 "$work/time.$key")
    echo "$wall $rss $rc $(grep -c '"sha256":"[0-9A-F]' "$work/$key.jsonl" || true) $(calc "$user + $sys")" >"$work/m.$key"
}
get() { local wall rss rc certs cpu; read -r wall rss rc certs cpu <"$work/m.$1"; eval "echo \$$2"; }

run plain1
run hist1 --history "$work/h.db"
run plain2
run hist2 --history "$work/h.db"

db_bytes=$(($(stat -c %s "$work/h.db") + $(stat -c %s "$work/h.db-wal" 2>/dev/null || echo 0)))
obs=$(sqlite3 "$work/h.db" 'SELECT count(*) FROM observations')
same=$(grep -c '"change":"same"' "$work/hist2.jsonl" || true)
new=$(grep -c '"change":"new"' "$work/hist1.jsonl" || true)
pages=$(sqlite3 "$work/h.db" "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC" 2>/dev/null |
    awk -F'|' -v o="$obs" '{ printf "%s %.1f B/obs; ", $1, $2 / o }' || true)
base_wall=$(calc "($(get plain1 wall) + $(get plain2 wall)) / 2")
base_rss=$(calc "($(get plain1 rss) + $(get plain2 rss)) / 2" 0)
base_cpu=$(calc "($(get plain1 cpu) + $(get plain2 cpu)) / 2")
pct() { calc "100 * ($1 - $2) / $2" 1; }

report() {
    echo "## --history on a $n-target scan"
    echo
    echo "Run by \`tests/bench/history.sh${n:+ -n $n}\` on $(nproc) CPUs, $(date -u +%Y-%m-%d);"
    echo "certsweep $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'), SQLite $(sqlite3 --version | cut -d' ' -f1)."
    echo "Fleet: $PORTS ports serving \`*.bulk.test\` leafs (TLS 1.2, RSA key transport), \`--cert-only -j $J\`,"
    echo "JSONL report. Scans in this order: plain, history into a new database, plain, history"
    echo "into the same database."
    echo
    echo "| scan | wall (s) | certsweep CPU (s) | peak RSS (KB) | exit | certificates | vs. plain (mean) |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
    for k in plain1 hist1 plain2 hist2; do
        echo "| $k | $(get $k wall) | $(get $k cpu) | $(get $k rss) | $(get $k rc) | $(get $k certs) | wall $(pct "$(get $k wall)" "$base_wall")%, CPU $(pct "$(get $k cpu)" "$base_cpu")%, RSS $(pct "$(get $k rss)" "$base_rss")% |"
    done
    echo
    echo "- records with change \`new\` in the first history scan: $new; \`same\` in the second: $same"
    echo "- database after two scans: $db_bytes bytes for $obs observations, $(calc "$db_bytes / $obs" 1) bytes per observation"
    echo "- by table and index (dbstat): ${pages:-n/a}"
    echo "- plain runs differ by $(pct "$(get plain2 wall)" "$(get plain1 wall)")% in wall time and $(pct "$(get plain2 cpu)" "$(get plain1 cpu)")% in CPU between themselves (the noise)"
    echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
}
micro=""
if [ -x "$build/certsweep-bench-history" ]; then
    log "the history layer alone: $n synthetic records, three scans"
    micro=$("$build/certsweep-bench-history" "$work/micro.db" "$n" |
        awk '{ printf "%s%s %.2f µs", (NR > 1 ? ", " : ""), $1, $3 } END { print "" }')
fi
report2() {
    report
    [ -n "$micro" ] && echo "- the history layer alone (certsweep-bench-history, $n records, CPU per record): $micro"
    true
}
if [ -n "$out" ]; then report2 >"$out"; else report2; fi
