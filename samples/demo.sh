#!/usr/bin/env bash
# The demo fleet: starts a local fleet of TLS endpoints on 127.0.0.1 (one per
# status certsweep knows, revoked and stapling servers, broken and misbehaving
# ones, an SMTP and an IMAP server that switch to TLS with STARTTLS) with its
# CRL and OCSP responder, scans it with certsweep (revocation
# checks included), shows the table, writes CSV, JSON and HTML reports, and stops
# the fleet.
# Uses the build in ./build (or BUILD_DIR), and builds there what it lacks:
# certsweep and the fleet server certsweep-fleet, whatever the build was
# configured with (-DCS_TESTS=OFF included).  The fleet and the reports go to
# samples/demo/run (or DEMO_OUT).  Exits with the scan's exit code.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
build=${BUILD_DIR:-build}
out=${DEMO_OUT:-samples/demo/run}
if [ ! -x "$build/certsweep" ] || [ ! -x "$build/certsweep-fleet" ]; then
    echo "demo: building certsweep and certsweep-fleet in $build" >&2
    # -DCS_DEMO=ON: the fleet server even where its option was turned off;
    # every other setting of a configured build stays as it was, and a new
    # one needs nothing of the test suite
    config=(-DCS_DEMO=ON)
    [ -f "$build/CMakeCache.txt" ] || config+=(-DCS_TESTS=OFF)
    if ! { cmake -S . -B "$build" "${config[@]}" >/dev/null &&
        cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" \
            --target certsweep certsweep-fleet >/dev/null; }; then
        echo "demo: could not build in $build; run: cmake -S . -B $build -DCS_DEMO=ON &&" \
            "cmake --build $build --target certsweep certsweep-fleet" >&2
        exit 1
    fi
fi
rm -rf "$out"
mkdir -p "$out"

"$build/certsweep-fleet" --dir "$out/fleet" --mail > "$out/fleet.log" 2>&1 &
fleet=$!
trap 'kill "$fleet" 2>/dev/null; wait "$fleet" 2>/dev/null' EXIT
for _ in $(seq 100); do
    grep -q ready "$out/fleet.log" 2>/dev/null && break
    kill -0 "$fleet" 2>/dev/null || { cat "$out/fleet.log" >&2; exit 1; }
    sleep 0.1
done

echo "Demo fleet: $(grep -vc '^#' "$out/fleet/targets.txt") endpoints on 127.0.0.1 (targets in $out/fleet/targets.txt)"
echo
# --crl --ocsp: each leaf's CRL and OCSP responder (the fleet's, on 127.0.0.1)
# shellcheck disable=SC2046
"$build/certsweep" --ca-file "$out/fleet/ca.pem" $(cat "$out/fleet/resolve.args") \
    -f "$out/fleet/targets.txt" -t 3 --crl --ocsp --fetch-timeout 3 \
    -o "$out/report.csv" -o "$out/report.json" -o "$out/report.html"
status=$?
echo
echo "exit code $status (0 OK, 1 WARNING, 2 CRITICAL/EXPIRED, 3 ERROR)"
echo "reports: $out/report.csv $out/report.json $out/report.html (open it in a browser)"
exit "$status"
