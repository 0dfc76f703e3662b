#!/usr/bin/env bash
# Bulwark side by side with Apache Kafka on this machine, in one run, with Kafka's own perf tools.
#
#   bench/run.sh [REPEATS]        (default 2)
#
# For each repeat: start Bulwark (fresh data dir, its durable default unless FLUSH_POLICY says otherwise, and the two
# broker settings start-kafka.sh gives Kafka: group.initial.rebalance.delay.ms=0, auto.create.topics.enable=true), run
# ../shared/bench/perf.sh against it, stop it; then the same against Apache Kafka started from Maven Central jars by
# ../shared/bench/start-kafka.sh. Then prints, per test, the mean records/s and MB/s of each and the ratio
# Bulwark/Kafka.
#
# The targets (issue 2): producer 1 KB records, acks=all, 6 partitions, batch.size 65536, linger.ms 5, and the
# consumer reading them back, each at least 1.0x Apache Kafka.
#
# Env: SHARED_BENCH (../shared/bench) RECORDS (1000000) SIZES (1000) PARTITIONS (6) LAT_RECORDS (2000)
#      FLUSH_POLICY (durable) BULWARK_PORT (29092) KAFKA_PORT (29192) OUT (/var/tmp/bulwark-bench/<stamp>)
#      QUIET_CORES (0.3: each test waits for an idle machine, see perf.sh)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
SHARED_BENCH="${SHARED_BENCH:-$root/../shared/bench}"
[[ -x "$SHARED_BENCH/perf.sh" ]] || { echo "no perf.sh in $SHARED_BENCH (set SHARED_BENCH)" >&2; exit 2; }
REPEATS="${1:-2}"
BULWARK_PORT="${BULWARK_PORT:-29092}"
KAFKA_PORT="${KAFKA_PORT:-29192}"
OUT="${OUT:-/var/tmp/bulwark-bench/$(date +%Y%m%d-%H%M%S)}"
export RECORDS="${RECORDS:-1000000}" SIZES="${SIZES:-1000}" PARTITIONS="${PARTITIONS:-6}"
export LAT_RECORDS="${LAT_RECORDS:-2000}" PROBE="${PROBE:-0}" QUIET_CORES="${QUIET_CORES:-0.3}"
mkdir -p "$OUT"

source "$here/bulwark.sh"
trap 'stop_bulwark; "$SHARED_BENCH/stop-kafka.sh" "$OUT/kafka" >/dev/null 2>&1 || true' EXIT

for ((r = 1; r <= REPEATS; r++)); do
  data="$OUT/bulwark-data-$r"
  start_bulwark "$data" "$OUT/bulwark-$r.log" "$BULWARK_PORT" \
    BULWARK_STORAGE_FLUSH_POLICY="${FLUSH_POLICY:-durable}"
  SERVER_PID="$bulwark_pid" OUT="$OUT/perf-bulwark-$r" LABEL="bulwark run $r" \
    "$SHARED_BENCH/perf.sh" "127.0.0.1:$BULWARK_PORT"
  stop_bulwark
  rm -rf "$data"

  "$SHARED_BENCH/start-kafka.sh" "$KAFKA_PORT" "$OUT/kafka"
  SERVER_PID="$(cat "$OUT/kafka/kafka.pid")" OUT="$OUT/perf-kafka-$r" LABEL="kafka run $r" \
    "$SHARED_BENCH/perf.sh" "127.0.0.1:$KAFKA_PORT"
  "$SHARED_BENCH/stop-kafka.sh" "$OUT/kafka"
done

echo
echo "# Bulwark / Apache Kafka, mean of $REPEATS run(s) (flush policy ${FLUSH_POLICY:-durable})"
print_ratio "$OUT" "perf-bulwark-*" "perf-kafka-*" bulwark kafka | tee "$OUT/ratio.txt"
echo "# raw output: $OUT"
