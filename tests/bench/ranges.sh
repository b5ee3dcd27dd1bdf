#!/usr/bin/env bash
# Memory while a /16 with a port list is expanded and scanned: certsweep
# reads "RANGE:P1,P2" (131,068 targets for a /16), every connection is
# refused at once (nothing listens on those ports of 127.1.0.0/16, which
# the loopback interface answers), and its resident memory is sampled
# every 200 ms.  The reader walks the range one target at a time, so RSS
# must stay flat: the last sample near the first.
#
#   tests/bench/ranges.sh [CERTSWEEP]     (default build/certsweep)
#   RANGE=127.1.0.0/16 JOBS=500 tests/bench/ranges.sh
#
# Prints one line per quantity, "name value", for a results table.
set -euo pipefail

bin=${1:-build/certsweep}
range=${RANGE:-127.1.0.0/16}
jobs=${JOBS:-500}
[ -x "$bin" ] || { echo "ranges.sh: $bin is not built" >&2; exit 1; }

# two ports nothing listens on, on any address (a wildcard listener would
# answer on 127.1.x.x too)
read -r p1 p2 < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("0.0.0.0", 0))
print(*[x.getsockname()[1] for x in s])')

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s.%N)
"$bin" -q -o "jsonl:$tmp/records.jsonl" -j "$jobs" --max-expand 16777216 -t 2 \
    --fail-on never "$range:$p1,$p2" 2>"$tmp/err" &
pid=$!
samples=()
while kill -0 "$pid" 2>/dev/null; do
    kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$kb" ] && samples+=("$kb")
    sleep 0.2
done
wait "$pid" || { echo "ranges.sh: certsweep failed:" >&2; cat "$tmp/err" >&2; exit 1; }
end=$(date +%s.%N)

records=$(wc -l < "$tmp/records.jsonl")
n=${#samples[@]}
[ "$n" -ge 3 ] || { echo "ranges.sh: too few samples ($n)" >&2; exit 1; }
# the first samples are the start-up (trust store, worker loops): the
# baseline is the sample a second in
base=${samples[$((n > 5 ? 5 : 1))]}
last=${samples[$((n - 1))]}
peak=$(printf '%s\n' "${samples[@]}" | sort -n | tail -1)
echo "range $range:$p1,$p2"
echo "records $records"
echo "seconds $(echo "$end - $start" | bc)"
echo "rss_start_kb $base"
echo "rss_end_kb $last"
echo "rss_peak_kb $peak"
echo "samples $n"
