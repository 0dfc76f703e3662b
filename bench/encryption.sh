#!/usr/bin/env bash
# What sealing costs: Bulwark with its record batches sealed (the default) and unsealed
# (bulwark.storage.seal-batches=false), in one run, with Kafka's own perf tools; prints the mean records/s and MB/s of
# each and the ratio sealed/unsealed.
#
#   bench/encryption.sh [REPEATS]        (default: REPEATS from the environment, else 2)
#
# For each repeat, in turn (so that drift in the machine hits both alike, sealed first in odd repeats and unsealed
# first in even ones): Bulwark sealed on a fresh data dir and Bulwark unsealed on another, each measured by
# ../shared/bench/perf.sh. Same durable default and broker settings as run.sh. The issue-7 target: sealed at least
# 0.95x unsealed for producer and consumer throughput.
#
# Env: SHARED_BENCH (../shared/bench) REPEATS (2) RECORDS (1000000) SIZES (1000) PARTITIONS (6) BULWARK_PORT (29092)
#      FLUSH_POLICY (durable) OUT (/var/tmp/bulwark-bench/encryption-<stamp>) QUIET_CORES (0.3, see perf.sh)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
SHARED_BENCH="${SHARED_BENCH:-$root/../shared/bench}"
[[ -x "$SHARED_BENCH/perf.sh" ]] || { echo "no perf.sh in $SHARED_BENCH (set SHARED_BENCH)" >&2; exit 2; }
REPEATS="${1:-${REPEATS:-2}}"
BULWARK_PORT="${BULWARK_PORT:-29092}"
OUT="${OUT:-/var/tmp/bulwark-bench/encryption-$(date +%Y%m%d-%H%M%S)}"
export RECORDS="${RECORDS:-1000000}" SIZES="${SIZES:-1000}" PARTITIONS="${PARTITIONS:-6}"
# Throughput is the point; a short latency test comes along (perf.sh always runs one).
export LAT_RECORDS="${LAT_RECORDS:-1000}" PROBE=0 QUIET_CORES="${QUIET_CORES:-0.3}"
mkdir -p "$OUT"

source "$here/bulwark.sh"
trap stop_bulwark EXIT

for ((r = 1; r <= REPEATS; r++)); do
  modes=(sealed unsealed)
  ((r % 2 == 0)) && modes=(unsealed sealed) # alternate which goes first: the second of a pair meets a warmer machine
  for mode in "${modes[@]}"; do
    seal=true
    [[ "$mode" == unsealed ]] && seal=false
    start_bulwark "$OUT/data-$mode-$r" "$OUT/bulwark-$mode-$r.log" "$BULWARK_PORT" \
      BULWARK_STORAGE_FLUSH_POLICY="${FLUSH_POLICY:-durable}" BULWARK_STORAGE_SEAL_BATCHES="$seal"
    SERVER_PID="$bulwark_pid" OUT="$OUT/perf-$mode-$r" LABEL="bulwark $mode run $r" \
      "$SHARED_BENCH/perf.sh" "127.0.0.1:$BULWARK_PORT"
    stop_bulwark
    rm -rf "$OUT/data-$mode-$r"
  done
done

echo
echo "# Bulwark sealed / unsealed, mean of $REPEATS run(s) (flush policy ${FLUSH_POLICY:-durable})"
print_ratio "$OUT" "perf-sealed-*" "perf-unsealed-*" sealed unsealed | tee "$OUT/ratio.txt"
echo "# raw output: $OUT"
