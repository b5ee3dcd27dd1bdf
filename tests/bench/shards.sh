#!/usr/bin/env bash
# certsweep --shard benchmark: the bench fleet (10,000 endpoints on 40
# loopback addresses, as tests/bench/run's shared fleet) scanned by one
# process, and by N=2 shard processes side by side (--shard 0/2, 1/2) whose
# reports certsweep merge then joins: wall time, CPU and peak RSS of each
# step, and whether the merged report holds the single run's endpoints.
# On one machine two shards share its cores with one process's threads, so
# this measures what sharding costs, not what a second machine would gain.
#
#   tests/bench/shards.sh            10,000 endpoints
#   tests/bench/shards.sh --smoke    2,000 endpoints, for CI
#
# Options: --build DIR (default: build), --out FILE (default
# tests/bench/SHARDS.md; --smoke prints to standard output), --keep.
# Needs: a built certsweep and certsweep-fleet, GNU time.  Every connection
# goes to 127.0.0.0/8.
set -euo pipefail

# shellcheck source=tests/bench/common.sh
. "$(dirname "$0")/common.sh"
bench_default_out SHARDS.md
if [ $smoke = 1 ]; then N_ADDR=20; N_PORTS=100; else N_ADDR=40; N_PORTS=250; fi
N_EP=$((N_ADDR * N_PORTS))
J=2000
BASE=27000
ulimit -n "$(ulimit -Hn)"

calc() { awk "BEGIN { printf \"%.${2:-2}f\", ($1) }"; }

log "starting a fleet of $N_EP endpoints"
fleet_start --bulk "$N_EP" --bulk-addresses "$N_ADDR" --bulk-port-base $BASE --threads 2
grep -E '^127\.0\.1\.[0-9]+:[0-9]+$' "$work/fleet/targets.txt" >"$work/all.txt" || true
[ "$(wc -l <"$work/all.txt")" = "$N_EP" ] || { echo "shards.sh: fleet wrote too few endpoints" >&2; exit 70; }
common=(-q --ca-file "$work/fleet/ca.pem" -j $J --per-address $J --fail-on never -f "$work/all.txt")

# timed KEY CMD...: GNU time's wall, user+sys and peak RSS (KB) into $work/t.KEY
timed() {
    local key=$1; shift
    /usr/bin/time -f '%e %U %S %M' -o "$work/t.$key" "$@"
}
field() { local w u s m; read -r w u s m < <(tail -1 "$work/t.$1"); case $2 in wall) echo "$w" ;; cpu) calc "$u + $s" ;; rss) echo $((m / 1024)) ;; esac; }

log "one process"
timed one "$cs" "${common[@]}" -o "$work/one.jsonl"
log "two shard processes side by side"
start=$(date +%s.%N)
timed s0 "$cs" "${common[@]}" --shard 0/2 -o "$work/s0.jsonl" &
p0=$!
timed s1 "$cs" "${common[@]}" --shard 1/2 -o "$work/s1.jsonl" &
p1=$!
wait $p0
wait $p1
pair=$(calc "$(date +%s.%N) - $start")
log "merge"
timed merge "$cs" merge "$work/s0.jsonl" "$work/s1.jsonl" -q --fail-on never \
    -o "$work/merged.jsonl" -o "$work/merged.csv"

endpoints() { grep -o '"host":"[^"]*","port":[0-9]*' "$1" | sort; }
same=no
[ "$(endpoints "$work/one.jsonl")" = "$(endpoints "$work/merged.jsonl")" ] && same=yes
n0=$(wc -l <"$work/s0.jsonl")
n1=$(wc -l <"$work/s1.jsonl")
total=$(calc "$pair + $(field merge wall)")

report() {
    cat <<MD
## Shards: N=2 shard processes plus merge against one process ($(date -u +%Y-%m-%d), \`$cmdline\`)

The bench fleet, $N_EP endpoints on $N_ADDR loopback addresses, on $(nproc)
cores shared with the fleet (load average $load when it started); every run \`-j $J\`, JSON Lines reports:

| step | wall (s) | CPU (s) | peak RSS (MB) | records |
| --- | --- | --- | --- | --- |
| one process | $(field one wall) | $(field one cpu) | $(field one rss) | $(wc -l <"$work/one.jsonl") |
| shard 0/2 | $(field s0 wall) | $(field s0 cpu) | $(field s0 rss) | $n0 |
| shard 1/2 | $(field s1 wall) | $(field s1 cpu) | $(field s1 rss) | $n1 |
| both shards, side by side | $pair | | | $((n0 + n1)) |
| \`certsweep merge\` (JSONL and CSV out) | $(field merge wall) | $(field merge cpu) | $(field merge rss) | $(wc -l <"$work/merged.jsonl") |
| shards + merge | $total | | | |

The merged report holds the single run's endpoints: $same.  Both shards
share this machine's cores with each other and the fleet, so the pair is no
faster than one process here; on two machines each shard has a machine's
worth of cores, and the merge is what is left to pay.
MD
}
if [ -n "$out" ]; then report >"$out"; log "wrote $out"; else report; fi
