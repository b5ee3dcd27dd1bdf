#!/bin/sh
# certsweep over several machines with GNU parallel: N shards of one targets
# file, each scanned on one of the hosts you name (over ssh; each needs
# certsweep in its PATH), their reports brought back and merged here into
# the reports and exit code of one scan.
#
#   samples/parallel/shards.sh domains.txt scan1.example.net scan2.example.net ...
#
# One shard per host by default; SHARDS=8 runs 8 shards over the hosts
# (parallel gives each host as many at a time as it has CPUs, -j tunes it).
# Shards run with --fail-on never and write JSON documents, so that a shard
# that was interrupted is seen by the merge (exit 66); the merge's exit code
# is the scan's (--fail-on critical here: 2 when a certificate is CRITICAL
# or EXPIRED).  Every shard gets the same options, as it must: a target's
# shard depends on its port, SNI and probe.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 TARGETS HOST..." >&2; exit 64; }
targets=$1
shift
hosts=$(printf '%s,' "$@")
shards=${SHARDS:-$#}
out=${OUT:-certsweep-$(date -u +%Y-%m-%d)}
mkdir -p "$out"
cp "$targets" "$out/targets.txt"
cd "$out"
# --transferfile sends the targets file, --return brings the shard report
# back, --cleanup removes both from the remote host; {} is K.
seq 0 $((shards - 1)) | parallel --sshlogin "${hosts%,}" \
    --transferfile targets.txt --return shard-{}.json --cleanup --halt never \
    certsweep --shard {}/"$shards" -f targets.txt -q --fail-on never -o shard-{}.json
set --
k=0
while [ "$k" -lt "$shards" ]; do
    [ -f "shard-$k.json" ] || { echo "$0: shard $k did not come back" >&2; exit 66; }
    set -- "$@" "shard-$k.json"
    k=$((k + 1))
done
exec certsweep merge "$@" --fail-on critical -o report.csv -o report.json
