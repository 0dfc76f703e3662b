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

# Prints a table: per test of the first run's summary, the mean records/s and MB/s over A's runs and over B's, and
# the ratio A/B of records/s (MB/s is records/s times the record size: the same ratio).
#   print_ratio OUT A_GLOB B_GLOB A_NAME B_NAME
print_ratio() {
  local out="$1" a="$2" b="$3" first t xr xm yr ym ratio
  first=$(ls "$out"/$a/summary.tsv | head -n 1)
  printf '%-20s %14s %9s %14s %9s %7s\n' test "$4 rec/s" MB/s "$5 rec/s" MB/s ratio
  for t in $(awk -F'\t' 'NR > 1 { print $1 }' "$first"); do
    read -r xr xm < <(mean_of "$t" "$out"/$a/summary.tsv)
    read -r yr ym < <(mean_of "$t" "$out"/$b/summary.tsv)
    ratio=$(awk -v x="$xr" -v y="$yr" 'BEGIN { if (x != "-" && y > 0) printf "%.2fx", x / y; else print "-" }')
    printf '%-20s %14s %9s %14s %9s %7s\n' "$t" "$xr" "$xm" "$yr" "$ym" "$ratio"
  done
}

# mean_of TEST SUMMARY... : "records/s MB/s", each the mean over the summaries that have a number for it, else "-".
mean_of() {
  local t="$1"
  shift
  cat "$@" | awk -F'\t' -v t="$t" '$1 == t && $2 ~ /^[0-9]+$/ { r += $2; n++; if ($3 ~ /^[0-9.]+$/) { m += $3; k++ } }
      END { printf "%s %s\n", n ? sprintf("%.0f", r / n) : "-", k ? sprintf("%.2f", m / k) : "-" }'
}
