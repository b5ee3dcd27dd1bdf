#!/usr/bin/env bash
# certsweep diff benchmark: two 1,000,000-record JSON Lines reports (a
# night's scan and the next, with renewals, regressions, recoveries, new and
# gone endpoints), diffed by certsweep diff and by the pipeline people write
# instead (jq to pull the fields, sort, join, awk to classify), over the same
# files: wall time and peak RSS of each, and whether they agree.  The
# records are our own writer's: one real record of a scan of the bench
# fleet, repeated with other names, certificates, dates and statuses.
#
#   tests/bench/diff.sh            1,000,000 records (a few minutes on 2 cores)
#   tests/bench/diff.sh --smoke    20,000 records, for CI
#
# Options: --build DIR (default: build), --out FILE (default
# tests/bench/DIFF.md; --smoke prints to standard output), --keep.
# Needs: a built certsweep and certsweep-fleet, jq, GNU time, awk, sort, join.
set -euo pipefail

# shellcheck source=tests/bench/common.sh
. "$(dirname "$0")/common.sh"
for t in jq join sort awk; do
    command -v $t >/dev/null || { echo "diff.sh: needs $t (samples/install-deps.sh)" >&2; exit 66; }
done
bench_default_out DIFF.md
N=1000000
[ $smoke = 0 ] || N=20000

# ---- one real record, the template -------------------------------------------
log "one real record from the bench fleet"
fleet_start --bulk 1
ep=$(grep -E '^127\.0\.0\.1:[0-9]+$' "$work/fleet/targets.txt" | head -1)
"$cs" --ca-file "$work/fleet/ca.pem" -F jsonl "$ep" >"$work/one.jsonl" || true
fleet_stop
grep -q '"sha256":"[0-9A-F]' "$work/one.jsonl" || { echo "diff.sh: the fleet gave no certificate" >&2; exit 70; }
# placeholders: @H@ host (and SNI), @S@ status, @N@ not_after, @X@ sha256
sed -e 's/"host":"[^"]*"/"host":"@H@"/' -e 's/"sni":"[^"]*"/"sni":"@H@"/' \
    -e 's/"sni":null/"sni":"@H@"/' -e 's/"port":[0-9]*/"port":443/' \
    -e 's/"status":"[A-Z]*"/"status":"@S@"/' -e 's/"not_after":"[^"]*"/"not_after":"@N@"/' \
    -e 's/"sha256":"[^"]*"/"sha256":"@X@"/' "$work/one.jsonl" >"$work/template"

# ---- two nights -------------------------------------------------------------
# Record i: h<i>.bench.test.  The second night: i % 100 == 1 renewed (another
# certificate, a later date), == 2 worse (OK -> CRITICAL), == 3 better
# (ERROR -> OK), == 4 gone, and N/100 new names.
log "writing two reports of $N records"
gen() {
    awk -v n="$N" -v night="$1" -v tpl="$(cat "$work/template")" '
    function sha(i, salt) { return sprintf("%08X%08X%048X", i, salt, 0) }
    function put(h, st, na, s,    line) {
        line = tpl
        gsub(/@H@/, h, line); gsub(/@S@/, st, line); gsub(/@N@/, na, line); gsub(/@X@/, s, line)
        print line
    }
    BEGIN {
        for (i = 0; i < n; i++) {
            k = i % 100; st = "OK"; na = "2027-06-15T07:42:32Z"; s = sha(i, 0)
            if (k == 3 && night == 1) st = "ERROR"
            if (night == 2) {
                if (k == 1) { na = "2027-09-13T07:42:32Z"; s = sha(i, 1) }
                if (k == 2) st = "CRITICAL"
                if (k == 4) continue
            }
            put("h" i ".bench.test", st, na, s)
        }
        if (night == 2)
            for (i = n; i < n + n / 100; i++)
                put("h" i ".bench.test", "OK", "2027-06-15T07:42:32Z", sha(i, 0))
    }' >"$work/night$1.jsonl"
}
gen 1
gen 2
size=$(du -m "$work/night1.jsonl" | cut -f1)

# ---- certsweep diff -----------------------------------------------------------
log "certsweep diff"
rc=0
/usr/bin/time -f '%e %M' -o "$work/time.cs" "$cs" diff "$work/night1.jsonl" "$work/night2.jsonl" \
    -o "$work/cs.csv" -q || rc=$?
[ $rc = 1 ] || { echo "diff.sh: certsweep diff exited $rc (want 1: something got worse)" >&2; exit 70; }
read -r cs_wall cs_rss < <(tail -1 "$work/time.cs")
cs_counts=$(tail -n +2 "$work/cs.csv" | cut -d, -f1 | sort | uniq -c | awk '{printf "%s %s, ", $1, $2}')

# ---- jq | sort | join -------------------------------------------------------
log "jq | sort | join | awk"
cat >"$work/pipeline.sh" <<'PIPE'
set -euo pipefail
key='([(.host | ascii_downcase), (.port | tostring), .sni, (.protocol // "")] | join("|"))'
jq -r "[$key, .status, (.not_after // \"\"), (.sha256 // \"\")] | @tsv" "$1" | LC_ALL=C sort -t $'\t' -k1,1 >"$3/a.tsv"
jq -r "[$key, .status, (.not_after // \"\"), (.sha256 // \"\")] | @tsv" "$2" | LC_ALL=C sort -t $'\t' -k1,1 >"$3/b.tsv"
LC_ALL=C join -t $'\t' -a 1 -a 2 -e - -o 0,1.2,1.3,1.4,2.2,2.3,2.4 "$3/a.tsv" "$3/b.tsv" | awk -F '\t' '
    function rank(s) { return s == "EXPIRED" ? 0 : s == "CRITICAL" ? 1 : s == "WARNING" ? 2 : s == "ERROR" ? 3 : 4 }
    $2 == "-" { print "new", $1; next }
    $5 == "-" { print "gone", $1; next }
    rank($5) < rank($2) { print "worse", $1; next }
    $4 != "" && $7 != "" && ($4 "") != ($7 "") { print (($6 "") > ($3 "") ? "renewed" : "replaced"), $1; next }
    rank($5) > rank($2) { print "better", $1 }' >"$3/changes.txt"
PIPE
/usr/bin/time -f '%e %M' -o "$work/time.jq" bash "$work/pipeline.sh" "$work/night1.jsonl" \
    "$work/night2.jsonl" "$work"
read -r jq_wall jq_rss < <(tail -1 "$work/time.jq")
jq_counts=$(cut -d' ' -f1 "$work/changes.txt" | sort | uniq -c | awk '{printf "%s %s, ", $1, $2}')
agree=no
[ "$cs_counts" = "$jq_counts" ] && agree=yes

report() {
    cat <<MD
## Diff: two $N-record reports ($(date -u +%Y-%m-%d), \`$cmdline\`)

Two JSON Lines reports of $N records each (${size} MB a night; our writer's
records), the second with 1% renewed, 1% worse, 1% better, 1% gone and 1%
new endpoints, diffed on $(nproc) cores (load average $load when it started):

| tool | wall (s) | peak RSS (MB) | changes found |
| --- | --- | --- | --- |
| \`certsweep diff OLD NEW -o changes.csv -q\` | $cs_wall | $((cs_rss / 1024)) | ${cs_counts%, } |
| \`jq \| sort \| join \| awk\` | $jq_wall | $((jq_rss / 1024)) | ${jq_counts%, } |

Same changes found by both: $agree.  The pipeline's peak RSS is that of its
largest process (GNU time over \`bash\`: the children's maximum, not their
sum).  certsweep keeps the old report in a compact form (about 150 bytes an
endpoint) and streams the new one.
MD
}
if [ -n "$out" ]; then report >"$out"; log "wrote $out"; else report; fi
