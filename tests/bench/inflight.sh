#!/usr/bin/env bash
# Memory per handshake in flight: certsweep -j N against a fleet that holds
# every ClientHello (certsweep-fleet --hold-ms), so that all N handshakes wait
# for their ServerHello at once; peak RSS (GNU time) against the same command
# with one target, and so the bytes each in-flight probe costs.  Beside it the
# CPU side on a fleet that answers at once (-j 2000, the same N names): wall,
# and client CPU per handshake.  With --baseline REV the code at git revision
# REV is built apart and measured in the same run, rounds alternating.
#
#   tests/bench/inflight.sh --baseline daffc16          10,000 in flight
#   tests/bench/inflight.sh --smoke                     1,000, for CI
#
# Options: --n N (handshakes in flight; default 10000, --smoke 1000),
# --rounds R (default 2), --baseline REV, --build DIR (default: build),
# --out FILE (default tests/bench/INFLIGHT.md; --smoke prints to standard
# output), --keep.  Needs: a built certsweep and certsweep-fleet, GNU time,
# git (for --baseline).  Every connection goes to 127.0.0.1.
set -euo pipefail

all_args="$*"
n_opt=""
rounds=2
baseline_rev=""
rest=()
while [ $# -gt 0 ]; do
    case "$1" in
    --n) n_opt=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --baseline) baseline_rev=$2; shift ;;
    *) rest+=("$1") ;;
    esac
    shift
done
# shellcheck source=tests/bench/common.sh
. "$(dirname "$0")/common.sh" "${rest[@]+"${rest[@]}"}"
bench_default_out INFLIGHT.md
cmdline="tests/bench/inflight.sh${all_args:+ $all_args}"
if [ $smoke = 1 ]; then N=1000; HOLD_MS=2000; else N=10000; HOLD_MS=5000; fi
[ -z "$n_opt" ] || N=$n_opt
case "$N$rounds" in *[!0-9]*) echo "inflight.sh: --n and --rounds take numbers" >&2; exit 64 ;; esac
PORTS=100
HOLD_BASE=28500
FAST_BASE=28700
J_FAST=2000
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((N + 64)) ] || { echo "inflight.sh: --n $N needs more than $(ulimit -n) open files" >&2; exit 64; }

calc() { awk "BEGIN { printf \"%.${2:-2}f\", ($1) }"; }

# ---- the binaries ----------------------------------------------------------------
bins=(current)
declare -A bin
bin[current]=$cs
if [ -n "$baseline_rev" ]; then
    log "building certsweep at $baseline_rev (the baseline)"
    mkdir -p "$work/base-src"
    git -C "$root" archive "$baseline_rev" | tar -x -C "$work/base-src"
    cmake -S "$work/base-src" -B "$work/base-build" -DCS_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$work/base-build" -j2 --target certsweep >/dev/null
    bin[baseline]="$work/base-build/certsweep"
    bins=(baseline current)
fi
# After the ServerHello: tests/bench/after_hello.c, built against each code's core.
declare -A ah
ah[current]="$build/certsweep-bench-after-hello"
[ -x "${ah[current]}" ] || { echo "inflight.sh: ${ah[current]} not built" >&2; exit 66; }
if [ -n "$baseline_rev" ]; then
    # shellcheck disable=SC2046 # the libraries' flags, word by word
    cc -O2 -I"$work/base-src" -I"$work/base-build" "$here/after_hello.c" "$work/base-build/libcertsweep_core.a" \
        $(pkg-config --libs libssl libcrypto libuv libcares jansson libidn2 libcurl expat sqlite3) -lm -lpthread \
        -o "$work/after-hello-baseline"
    ah[baseline]="$work/after-hello-baseline"
fi

# ---- the fleets: one holds each ClientHello, one answers at once -----------------
log "starting the fleets ($PORTS wildcard ports each; one holds ${HOLD_MS} ms)"
fleet_start --bulk $PORTS --bulk-port-base $HOLD_BASE --wildcard --hold-ms $HOLD_MS --threads 2
hold_pid=$fleet_pid
mv "$work/fleet" "$work/hold"
"$fleet_bin" --dir "$work/fast" --bulk $PORTS --bulk-port-base $FAST_BASE --wildcard --threads 2 \
    >"$work/fast.log" 2>&1 &
fast_pid=$!
fleet_ready "$fast_pid" "$work/fast.log"
stop_fleets() {
    kill "$hold_pid" "$fast_pid" 2>/dev/null || true
    wait "$hold_pid" "$fast_pid" 2>/dev/null || true
}
trap 'stop_fleets; cleanup' EXIT
fleet_pid=""

targets() { # BASE COUNT FILE
    awk -v n="$2" -v b="$1" -v p=$PORTS 'BEGIN { for (i = 1; i <= n; i++) printf "h%07d.bulk.test:%d\n", i, b + i % p }' >"$3"
}
targets $HOLD_BASE "$N" "$work/hold.txt"
head -1 "$work/hold.txt" >"$work/hold1.txt"
targets $FAST_BASE "$N" "$work/fast.txt"
opts=(-q --resolve '*.bulk.test:*:127.0.0.1' -t 120 --connect-timeout 60 --fail-on never)

# run KEY BIN CA TARGETS J: GNU time's "wall user sys maxrss_kb" and the
# certificates obtained, into $work/m.KEY
run() {
    local key=$1 b=$2 ca=$3 t=$4 j=$5 certs
    /usr/bin/time -f '%e %U %S %M' -o "$work/time.$key" "$b" "${opts[@]}" --ca-file "$ca" \
        -j "$j" --per-address "$j" -f "$t" -o "$work/$key.jsonl" >/dev/null 2>"$work/stderr.$key" || true
    certs=$(grep -c '"sha256":"[0-9A-F]' "$work/$key.jsonl" || true)
    echo "$(tail -1 "$work/time.$key") $certs" >"$work/m.$key"
}

for ((r = 1; r <= rounds; r++)); do
    for b in "${bins[@]}"; do
        log "$b, round $r: one target, $N held in flight, $N answered at once"
        run "one.$b.$r" "${bin[$b]}" "$work/hold/ca.pem" "$work/hold1.txt" "$N"
        run "hold.$b.$r" "${bin[$b]}" "$work/hold/ca.pem" "$work/hold.txt" "$N"
        run "fast.$b.$r" "${bin[$b]}" "$work/fast/ca.pem" "$work/fast.txt" $J_FAST
        "${ah[$b]}" "$N" >"$work/ah13.$b.$r"
        "${ah[$b]}" "$N" tls12 >"$work/ah12.$b.$r"
    done
done
stop_fleets

# ah_mean KIND CODE: the mean heap bytes per probe after the ServerHello over the rounds
ah_mean() { cat "$work/$1.$2".* | awk '{ s += $4; n++ } END { printf "%.0f", s / n }'; }
# field KEY N: the Nth of "wall user sys maxrss certs"
field() { local a; read -ra a <"$work/m.$1"; echo "${a[$(($2 - 1))]}"; }

report() {
    echo "# Memory per handshake in flight"
    echo
    echo "Written by \`tests/bench/inflight.sh\` on $(date -u +%Y-%m-%dT%H:%M:%SZ). Reproduce with:"
    echo
    echo '```'
    echo "cmake -S . -B build -DCS_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build -j2"
    echo "$cmdline"
    echo '```'
    echo
    echo "Machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo);"
    echo "$(openssl version); load average at the start: $load (client and fleets share the CPUs)."
    echo
    echo "**Held**: certsweep-fleet \`--hold-ms $HOLD_MS\` ($PORTS wildcard ports on 127.0.0.1) reads each"
    echo "ClientHello only after $HOLD_MS ms, so all $N handshakes wait for their ServerHello at once;"
    echo "certsweep -j $N --per-address $N, $N names pinned with \`--resolve '*.bulk.test:*:127.0.0.1'\`."
    echo "Peak RSS is GNU time's maximum resident set; the baseline is the same command with one target;"
    echo "bytes per probe = (peak - baseline) / $N. **Answered at once**: the same $N names on a fleet"
    echo "that does not hold, -j $J_FAST: wall and client CPU (user+sys) per handshake."
    echo
    echo "| code | round | certs (held) | baseline RSS MB | peak RSS MB | bytes per in-flight probe | certs (at once) | wall s | client CPU ms/handshake |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    local b r one peak per cpu
    declare -A sum_per sum_cpu sum_peak
    for b in "${bins[@]}"; do
        sum_per[$b]=0; sum_cpu[$b]=0; sum_peak[$b]=0
        for ((r = 1; r <= rounds; r++)); do
            one=$(field "one.$b.$r" 4)
            peak=$(field "hold.$b.$r" 4)
            per=$(calc "($peak - $one) * 1024 / $N" 0)
            cpu=$(calc "1000 * ($(field "fast.$b.$r" 2) + $(field "fast.$b.$r" 3)) / $N" 3)
            sum_per[$b]=$(calc "${sum_per[$b]} + $per" 0)
            sum_cpu[$b]=$(calc "${sum_cpu[$b]} + $cpu" 3)
            sum_peak[$b]=$(calc "${sum_peak[$b]} + $peak" 0)
            local name=$b
            [ "$b" = baseline ] && name="baseline ($baseline_rev)"
            echo "| $name | $r | $(field "hold.$b.$r" 5) / $N | $(calc "$one / 1024" 1) | $(calc "$peak / 1024" 1) | $per | $(field "fast.$b.$r" 5) / $N | $(field "fast.$b.$r" 1) | $cpu |"
        done
    done
    echo
    echo "**After the ServerHello** (\`tests/bench/after_hello.c\`, in one process): $N client handshakes of"
    echo "the TLS driver, each against an in-memory OpenSSL server of its own, fed the server's first"
    echo "record only (the ServerHello) and held there, as a probe waits for the rest of a slow"
    echo "server's flight; heap (mallinfo2) and RSS held per probe, the servers' side freed first"
    echo "(the engine's job, about 2 KB, is not in it)."
    echo
    echo "| code | round | protocol | heap bytes per probe | RSS bytes per probe | OpenSSL state still held |"
    echo "| --- | ---: | --- | ---: | ---: | ---: |"
    local v a
    for b in "${bins[@]}"; do
        for ((r = 1; r <= rounds; r++)); do
            for v in ah13 ah12; do
                read -ra a <"$work/$v.$b.$r"
                local name=$b
                [ "$b" = baseline ] && name="baseline ($baseline_rev)"
                echo "| $name | $r | ${a[1]} | ${a[3]} | ${a[4]} | ${a[5]} of ${a[2]} |"
            done
        done
    done
    if [ -n "$baseline_rev" ]; then
        echo
        echo "Over the $rounds rounds, current against the baseline ($baseline_rev):"
        echo
        echo "| | baseline | current | ratio (current / baseline) |"
        echo "| --- | ---: | ---: | ---: |"
        for k in peak per ah13 ah12 cpu; do
            local bl cu label
            case $k in
            peak) label="peak RSS MB, $N in flight"; bl=$(calc "${sum_peak[baseline]} / $rounds / 1024" 1); cu=$(calc "${sum_peak[current]} / $rounds / 1024" 1) ;;
            per) label="bytes per in-flight probe"; bl=$(calc "${sum_per[baseline]} / $rounds" 0); cu=$(calc "${sum_per[current]} / $rounds" 0) ;;
            ah13 | ah12) label="heap bytes per probe after the ServerHello, $([ $k = ah13 ] && echo 'TLS 1.3' || echo 'TLS 1.2')"
                bl=$(ah_mean "$k" baseline); cu=$(ah_mean "$k" current) ;;
            cpu) label="client CPU ms per handshake"; bl=$(calc "${sum_cpu[baseline]} / $rounds" 3); cu=$(calc "${sum_cpu[current]} / $rounds" 3) ;;
            esac
            echo "| $label | $bl | $cu | $(calc "$cu / $bl" 3) |"
        done
    fi
}

# The analysis below the measurements ("## Where the bytes go" to the end) is
# written by hand and kept across reruns.
if [ -n "$out" ]; then
    kept=""
    [ ! -f "$out" ] || kept=$(sed -n '/^## Where the bytes go/,$p' "$out")
    { report; [ -z "$kept" ] || printf '\n%s\n' "$kept"; } >"$out.tmp"
    mv "$out.tmp" "$out"
    log "wrote $out"
else
    report
fi
