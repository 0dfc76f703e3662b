#!/usr/bin/env bash
# Auditors' queries over a journal of 10 million events: the first page (100 events) of several filtered queries,
# timed in process through JournalSearch (what GET /api/v1/audit/events calls) and end to end over HTTP against the
# packaged server, as an auditor.
#
#   bench/audit-query.sh
#
# Steps: start Bulwark on a fresh data dir with an operator, create 20 tenants and a cluster-wide auditor over REST,
# stop it; append EVENTS events to its audit journal with AuditQueryBench.java, compiled against the server's own jars
# (so it writes and queries with the server's audit code), while the server is stopped; time the queries in process
# right after opening the journal as a restarted server does; start Bulwark again and time the same queries with curl.
# "first" is the first run (indexes may still be loading, the JIT cold), then the median and max of REPEATS runs.
# Last, one online verification of the whole journal over HTTP.
#
# The target (issue 8): a filtered first page in under 200 ms over 10 million events. A benchmark, not a test: nothing
# asserts a time.
#
# Env: EVENTS (10000000) REPEATS (5) HTTP_PORT (48180) KAFKA_PORT (49180)
#      OUT (/var/tmp/bulwark-bench/audit-<stamp>) KEEP (0: the data directory, ~3 GB, is removed at the end)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
EVENTS="${EVENTS:-10000000}"
REPEATS="${REPEATS:-5}"
HTTP_PORT="${HTTP_PORT:-48180}"
KAFKA_PORT="${KAFKA_PORT:-49180}"
OUT="${OUT:-/var/tmp/bulwark-bench/audit-$(date +%Y%m%d-%H%M%S)}"
KEEP="${KEEP:-0}"
OPERATOR="bench-ops:bench-ops-secret"
AUDITOR="auditor:auditor-secret"
api="http://127.0.0.1:$HTTP_PORT/api/v1"
mkdir -p "$OUT"

app="$root/gateway/target/quarkus-app"
if [[ ! -f "$app/quarkus-run.jar" ]]; then
  (cd "$root" && mvn -B -q -DskipTests package)
fi
classpath="$OUT/classes:$app/lib/main/*:$app/lib/boot/*"
mkdir -p "$OUT/classes"
javac -d "$OUT/classes" -cp "$classpath" "$here/AuditQueryBench.java"

data="$OUT/data"
bulwark_pid=""
start_bulwark() {
  BULWARK_DATA_DIR="$data" BULWARK_LISTENERS="SASL_PLAINTEXT://127.0.0.1:$KAFKA_PORT" QUARKUS_HTTP_PORT="$HTTP_PORT" \
    BULWARK_OPERATOR="$OPERATOR" java -Xms1g -Xmx1g -jar "$app/quarkus-run.jar" >>"$OUT/bulwark.log" 2>&1 &
  bulwark_pid=$!
  for _ in $(seq 1 1200); do
    curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/q/health/ready" && return 0
    kill -0 "$bulwark_pid" 2>/dev/null || { tail -50 "$OUT/bulwark.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "Bulwark did not become ready; see $OUT/bulwark.log" >&2
  exit 1
}
stop_bulwark() {
  if [[ -n "$bulwark_pid" ]] && kill -0 "$bulwark_pid" 2>/dev/null; then
    kill -TERM "$bulwark_pid"
    wait "$bulwark_pid" || true
  fi
  bulwark_pid=""
}
cleanup() {
  stop_bulwark
  if [[ "$KEEP" != 1 ]]; then rm -rf "$data"; fi
}
trap cleanup EXIT

post() {
  curl -sf -u "$OPERATOR" -H 'Content-Type: application/json' -d "$2" "$api$1"
}

echo "# setting up tenants and an auditor ($OUT)"
rm -rf "$data"
start_bulwark
: >"$OUT/tenants.tsv"
for i in $(seq -w 0 19); do
  id=$(post /tenants "{\"name\": \"tenant-$i\"}" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
  printf 'tenant-%s\t%s\n' "$i" "$id" >>"$OUT/tenants.tsv"
done
post /tenants/default/users "{\"name\": \"${AUDITOR%%:*}\", \"password\": \"${AUDITOR#*:}\", \"role\": \"auditor\"}" \
  >/dev/null
stop_bulwark

echo "# appending $EVENTS events to the journal (server stopped)"
java -Xmx2g -cp "$classpath" AuditQueryBench generate "$data" "$EVENTS" "$OUT/tenants.tsv" | tee "$OUT/generate.txt"
du -sh "$data/audit" | awk '{ print "journal and indexes: " $1 }' | tee -a "$OUT/generate.txt"

echo
echo "# in process: JournalSearch.page, as GET /api/v1/audit/events calls it"
java -Xmx1g -cp "$classpath" AuditQueryBench query "$data" "$OUT/tenants.tsv" "$REPEATS" | tee "$OUT/in-process.txt"

echo
echo "# over HTTP: GET /api/v1/audit/events?...&limit=100 as the auditor (curl time_total, Basic authentication included)"
start_bulwark
summary() {  # one time a line: the first, then the median and max of the others
  local times first
  times=$(cat)
  first=$(head -1 <<<"$times")
  tail -n +2 <<<"$times" | sort -g | awk -v first="$first" '{ t[NR] = $1 } END {
    printf "%10.1f %10.1f %10.1f\n", first, t[int((NR + 1) / 2)], t[NR] }'
}
timed() {  # URL: prints "status ms" per run
  for _ in $(seq 0 "$REPEATS"); do
    curl -s -o /dev/null -u "$AUDITOR" -w '%{http_code} %{time_total}\n' "$1"
  done
}
{
  printf '%-40s %10s %10s %10s\n' "query (first page of 100)" "first ms" "median ms" "max ms"
  runs=$(timed "$api/audit/keys")
  [[ $(awk '$1 != 200' <<<"$runs") == "" ]] || { echo "keys: $runs" >&2; exit 1; }
  printf '%-40s %s\n' "(baseline: GET /audit/keys)" "$(awk '{ print $2 * 1000 }' <<<"$runs" | summary)"
  while IFS=$'\t' read -r name query; do
    runs=$(timed "$api/audit/events?${query:+$query&}limit=100")
    [[ $(awk '$1 != 200' <<<"$runs") == "" ]] || { echo "$name: $runs" >&2; exit 1; }
    printf '%-40s %s\n' "$name" "$(awk '{ print $2 * 1000 }' <<<"$runs" | summary)"
  done < <(java -cp "$classpath" AuditQueryBench queries "$OUT/tenants.tsv")
} | tee "$OUT/http.txt"

echo
echo "# GET /api/v1/audit/verify: the whole journal, every seal opened"
curl -s -u "$AUDITOR" -w '\n%{http_code} %{time_total} s\n' "$api/audit/verify" | tee "$OUT/verify.txt"
echo "# raw output: $OUT"
