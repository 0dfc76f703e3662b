# Sourced by the bench scripts: start and stop the packaged Bulwark on a fresh data directory.
#
#   start_bulwark DATA_DIR LOG PORT [ENV=VALUE ...]   (sets bulwark_pid; waits until it listens)
#   stop_bulwark                                      (SIGTERM, waits)

bench_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bulwark_jar="$bench_root/gateway/target/quarkus-app/quarkus-run.jar"
if [[ ! -f "$bulwark_jar" ]]; then
  (cd "$bench_root" && mvn -B -q -DskipTests package)
fi
bulwark_pid=""

start_bulwark() {
  local data="$1" log="$2" port="$3"
  shift 3
  rm -rf "$data"
  env BULWARK_DATA_DIR="$data" BULWARK_LISTENERS="PLAINTEXT://127.0.0.1:$port" QUARKUS_HTTP_PORT=0 \
    BULWARK_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS=0 BULWARK_KAFKA_AUTO_CREATE_TOPICS_ENABLE=true "$@" \
    java -Xms1g -Xmx1g -jar "$bulwark_jar" >"$log" 2>&1 &
  bulwark_pid=$!
  for _ in $(seq 1 600); do
    grep -q "Listening for Kafka clients" "$log" && return 0
    kill -0 "$bulwark_pid" || { cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  echo "Bulwark did not start; see $log" >&2
  exit 1
}

stop_bulwark() {
  if [[ -n "$bulwark_pid" ]] && kill -0 "$bulwark_pid" 2>/dev/null; then
    kill -TERM "$bulwark_pid"
    wait "$bulwark_pid" || true
  fi
  bulwark_pid=""
}

# Prints, per test of the first run's summary, the mean records/s over A's and B's runs and the ratio A/B.
#   print_ratio OUT A_GLOB B_GLOB
print_ratio() {
  local out="$1" a="$2" b="$3" first
  first=$(ls "$out"/$a/summary.tsv | head -n 1)
  for t in $(awk -F'\t' 'NR > 1 { print $1 }' "$first"); do
    x=$(cat "$out"/$a/summary.tsv | awk -F'\t' -v t="$t" '$1 == t && $2 ~ /^[0-9]+$/ { s += $2; n++ } END { if (n) printf "%.0f", s / n }')
    y=$(cat "$out"/$b/summary.tsv | awk -F'\t' -v t="$t" '$1 == t && $2 ~ /^[0-9]+$/ { s += $2; n++ } END { if (n) printf "%.0f", s / n }')
    ratio=$(awk -v x="${x:-0}" -v y="${y:-0}" 'BEGIN { if (y > 0) printf "%.2fx", x / y; else print "-" }')
    printf '%-20s %14s %14s %8s\n' "$t" "${x:--}" "${y:--}" "$ratio"
  done
}
