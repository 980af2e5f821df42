#!/usr/bin/env bash
# The itstat benchmark (docs/performance.md): builds a Dify-shaped PostgreSQL database with N
# messages over 180 days, then measures in one run, on this machine:
#   floor        psql \copy of the extract query to CSV + sqlite3 .import of that CSV
#   floor-pg     the same \copy out + psql \copy of the CSV into a table keyed by id
#                (full-postgres is compared with it, every other step with floor)
#   full/sqlite  itstat ingest --full into a fresh SQLite warehouse
#   full/pg      itstat ingest --full into a fresh PostgreSQL warehouse
#   noop         an incremental run with nothing new
#   +10k         an incremental run after 10,000 new messages
#   reclassify   itstat ingest --reclassify after a rule change that changes no verdict
#   reclassify-flip  the same after a rule change that flips every transfer verdict
#   month xlsx   report --period month --format xlsx over the full warehouse
#   month json   report --period month --format json
#   month-scan   sqlite3 reading every column of the month's message rows (the floor of the
#                month reports: a report should cost a few scans of its rows)
#   half-year    report --from … --to … --format json over the last 180 days (a custom period)
#   half-scan    sqlite3 reading every column of those 180 days' rows (half-year's floor)
#   gaps-20k     grouping 20,000 distinct questions of 1,024 dimensions by single link (the
#                library's `gaps::cluster`, the baseline topics are measured against, on
#                synthetic vectors with bge-m3's geometry; in --smoke, 1,200 questions with
#                the debug test binary)
#   topics-100k  grouping 100,000 distinct questions of 1,024 dimensions into topics
#                (`topics::group`, average linkage, intent families; target ≤ 60 s and
#                ≤ 512 MiB, docs/topics.md; in --smoke, 1,200 questions)
# Each figure is the median of --runs runs (wall seconds, peak RSS from /usr/bin/time -v).
#
#   scripts/bench.sh [--messages N] [--runs K] [--shape repeated|distinct] [--binary PATH] [--keep] [--smoke] [--no-gaps]
#
# --shape: the data (scripts/bench/dify_data.sql). `repeated` (default): twelve question texts
# and one-line answers, the benchmark's first data. `distinct`: as real traffic, nearly every
# question a text of its own sharing common words, and answers of a RAG bot's length.
#
# --smoke: 20,000 messages, one run, the debug binary the tests built — CI runs it to prove
# the benchmark works; its timings mean nothing. --no-gaps leaves out gaps-20k and topics-100k, whose release
# test build compiles Polars a second time (with the test features) and takes ~15 minutes.
#
# Needs PostgreSQL (ITSTAT_BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres;
# the script creates and drops databases itstat_bench_*), psql, sqlite3 and GNU time. Without
# --binary it builds the release binary first.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

messages=300000
runs=3
binary=""
keep=0
smoke=0
gaps=1
shape=repeated
while [ $# -gt 0 ]; do
  case $1 in
    --messages) messages=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --no-gaps) gaps=0; shift ;;
    --shape) shape=$2; shift 2
      case $shape in repeated|distinct) ;; *) echo "bench: --shape is repeated or distinct" >&2; exit 1 ;; esac ;;
    --smoke) messages=20000; runs=1; binary="${CARGO_TARGET_DIR:-target}/debug/itstat"; smoke=1; shift ;;
    *) echo "usage: $0 [--messages N] [--runs K] [--shape repeated|distinct] [--binary PATH] [--keep] [--smoke] [--no-gaps]" >&2; exit 1 ;;
  esac
done
base=${ITSTAT_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
users=$(( messages / 100 > 500 ? messages / 100 : 500 ))
users=$(( users > 5000 ? 5000 : users ))

for tool in psql sqlite3 /usr/bin/time; do
  if ! command -v "$tool" >/dev/null; then
    package=$(basename "$tool" | sed 's/psql/postgresql-client/')
    echo "bench: installing $package" >&2
    apt-get install -y -qq "$package" >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null && apt-get install -y -qq "$package" >/dev/null; }
  fi
done
if [ -z "$binary" ]; then
  cargo build --release --locked >&2
  binary="${CARGO_TARGET_DIR:-target}/release/itstat"
fi
# The library's unit tests hold the knowledge-gaps scale run (an ignored test).
if [ "$smoke" = 1 ]; then profile=(); gaps_n=1200; topics_n=1200; else profile=(--release); gaps_n=20000; topics_n=100000; fi
if [ "$gaps" = 1 ]; then
  gaps_bin=$(cargo test "${profile[@]}" --lib --locked --no-run 2>&1 | sed -n 's/.*Executable unittests src\/lib.rs (\(.*\))/\1/p' | tail -n 1)
  [ -n "$gaps_bin" ] || { echo "bench: could not build the library's tests" >&2; exit 2; }
  gaps_bin=$(realpath "$gaps_bin")
fi
binary=$(realpath "$binary")

work=$(mktemp -d)
db_url() { echo "${base%/*}/$1"; }
dify=itstat_bench_dify_$$
whpg=itstat_bench_wh_$$
cleanup() {
  psql "$base" -Xq -c "DROP DATABASE IF EXISTS $dify WITH (FORCE)" -c "DROP DATABASE IF EXISTS $whpg WITH (FORCE)" >/dev/null 2>&1 || true
  if [ "$keep" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

echo "bench: generating $messages Dify messages ($users users, 180 days, $shape questions)…" >&2
psql "$base" -Xq -c "CREATE DATABASE $dify" -c "CREATE DATABASE $whpg" >/dev/null
psql "$(db_url $dify)" -Xq -v ON_ERROR_STOP=1 -f "$root/tests/fixtures/dify_schema.sql" >/dev/null
# VACUUM ANALYZE after each bulk load: a live Dify database is vacuumed, and autovacuum
# waking up on the fresh rows in the middle of a measurement would take one of the two cores.
gen() { psql "$(db_url $dify)" -Xq -v ON_ERROR_STOP=1 -v messages="$1" -v users="$users" -v days="$2" \
        -v last_day="$3" -v first="$4" -v shape="$shape" -f "$root/scripts/bench/dify_data.sql" >/dev/null
        psql "$(db_url $dify)" -Xq -c "VACUUM ANALYZE" >/dev/null; }
gen "$messages" 180 2026-10-31 0

# The extract query itstat runs, from its own SQL files, on one line for \copy.
cols=$(sed -e '/^--/d' -e 's/{{parent_message_id}}/m.parent_message_id::text/' -e 's/{{app_mode}}/m.app_mode::text/' \
  sql/dify/message_columns.sql | tr '\n' ' ')
extract=$(sed -e '/^--/d' -e 's/\$1::timestamp/NULL::timestamp/g' -e 's/\$2::text\[\]/ARRAY[]::text[]/g' \
  sql/dify/messages_since.sql | tr '\n' ' ' | sed "s|{{columns}}|$cols|")

# measure NAME COMMAND…: runs it $runs times; keeps the median wall time and peak RSS.
declare -A wall rss
measure() {
  local name=$1; shift
  local times=() mems=()
  for _ in $(seq "$runs"); do
    [ -n "${BEFORE:-}" ] && eval "$BEFORE"
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || {
      echo "bench: $name failed:" >&2; cat "$work/err" >&2; exit 2; }
    read -r t m <"$work/time"
    times+=("$t"); mems+=("$m")
  done
  wall[$name]=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  rss[$name]=$(printf '%s\n' "${mems[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "bench: $name ${wall[$name]} s (runs: ${times[*]})" >&2
}
ITSTAT_DIFY_URL=$(db_url "$dify")
export ITSTAT_DIFY_URL
export ITSTAT_LOG=itstat=warn
cd "$work"

BEFORE="rm -f floor.db floor.csv" measure floor-copy psql "$ITSTAT_DIFY_URL" -Xq -c "\\copy ($extract) TO 'floor.csv' WITH (FORMAT csv, HEADER)"
BEFORE="rm -f floor.db" measure floor-import sqlite3 floor.db ".import --csv floor.csv messages"
floor=$(awk "BEGIN {print ${wall[floor-copy]} + ${wall[floor-import]}}")
wall[floor]=$floor; rss[floor]=${rss[floor-copy]}
# The PostgreSQL floor: the same CSV copied into a table keyed by message id, with the
# extract's column types, on the same server (in the Dify database, dropped after).
floor_table="DROP TABLE IF EXISTS floor_messages; CREATE TABLE floor_messages AS SELECT * FROM ($extract) x WITH NO DATA; ALTER TABLE floor_messages ADD PRIMARY KEY (id)"
floor_pg_table() { psql "$(db_url "$dify")" -Xq -c "$floor_table" >/dev/null; }
BEFORE=floor_pg_table measure floor-pg-import psql "$(db_url $dify)" -Xq -c "\\copy floor_messages FROM 'floor.csv' WITH (FORMAT csv, HEADER)"
psql "$(db_url $dify)" -Xq -c "DROP TABLE IF EXISTS floor_messages" >/dev/null
wall[floor-pg]=$(awk "BEGIN {print ${wall[floor-copy]} + ${wall[floor-pg-import]}}"); rss[floor-pg]=${rss[floor-pg-import]}

BEFORE="rm -f wh.db wh.db-wal wh.db-shm" ITSTAT_WAREHOUSE_URL=sqlite://wh.db measure full-sqlite "$binary" ingest --full
BEFORE="psql '$base' -Xq -c 'DROP DATABASE IF EXISTS $whpg WITH (FORCE)' -c 'CREATE DATABASE $whpg' >/dev/null" \
  ITSTAT_WAREHOUSE_URL=$(db_url $whpg) measure full-postgres "$binary" ingest --full
BEFORE="" ITSTAT_WAREHOUSE_URL=sqlite://wh.db measure noop "$binary" ingest
BEFORE="" 
gen 10000 1 2026-11-01 1 # ten thousand newer messages
runs_saved=$runs; runs=1
ITSTAT_WAREHOUSE_URL=sqlite://wh.db measure new-10k "$binary" ingest
runs=$runs_saved
# Each reclassification starts from the warehouse as new-10k left it, derived under the
# default rules. `reclassify` changes a rule but no verdict (every transfer answer of the data
# holds both phrases): it reads, classifies and compares every row. `reclassify-flip` names a
# phrase no answer holds, so every transfer verdict flips (~11 % of the messages) and the
# sessions of nearly every user are derived again.
cp wh.db derived.db
restore="rm -f wh.db-wal wh.db-shm && cp derived.db wh.db"
printf '[rules]\ntransfer = ["转人工"]\n' > changed.toml
printf '[rules]\ntransfer = ["热线 9999"]\n' > flipped.toml
BEFORE=$restore ITSTAT_CONFIG=changed.toml ITSTAT_WAREHOUSE_URL=sqlite://wh.db measure reclassify "$binary" ingest --reclassify
BEFORE=$restore ITSTAT_CONFIG=flipped.toml ITSTAT_WAREHOUSE_URL=sqlite://wh.db measure reclassify-flip "$binary" ingest --reclassify
BEFORE=""
# Under the rules the warehouse was last derived with: with other rules, the first report
# would derive the warehouse again before reporting (docs/metrics.md §8) and time that too.
ITSTAT_CONFIG=flipped.toml ITSTAT_WAREHOUSE_URL=sqlite://wh.db measure month-xlsx "$binary" report --period month --date 2026-10-15 --format xlsx --out reports
ITSTAT_CONFIG=flipped.toml ITSTAT_WAREHOUSE_URL=sqlite://wh.db measure month-json "$binary" report --period month --date 2026-10-15 --format json
# The scans read every column of the period's rows and throw the text away.
scan() { echo "sqlite3 wh.db \"SELECT * FROM messages WHERE local_date >= '$1' AND local_date <= '$2'\" >/dev/null"; }
measure month-scan sh -c "$(scan 2026-10-01 2026-10-31)"
ITSTAT_CONFIG=flipped.toml ITSTAT_WAREHOUSE_URL=sqlite://wh.db measure half-year "$binary" report --from 2026-05-05 --to 2026-10-31 --format json
measure half-scan sh -c "$(scan 2026-05-05 2026-10-31)"
if [ "$gaps" = 1 ]; then
  ITSTAT_GAPS_BENCH_N=$gaps_n measure gaps-20k "$gaps_bin" gaps::cluster::tests::cluster_at_scale --exact --ignored --nocapture
  grep -h "gaps bench:" "$work/out" >&2 || true
  ITSTAT_TOPICS_BENCH_N=$topics_n measure topics-100k "$gaps_bin" topics::group::tests::topics_scale_100k --exact --ignored --nocapture
  grep -h "topics bench:" "$work/out" >&2 || true
fi
rows=$(sqlite3 wh.db "SELECT COUNT(*) FROM messages")
month_rows=$(sqlite3 wh.db "SELECT COUNT(*) FROM messages WHERE local_date LIKE '2026-10-%'")

printf '\nitstat benchmark: %s messages in Dify (%s questions; %s in the warehouse after +10k), %s in the month reported; median of %s runs; %s cores\n\n' \
  "$messages" "$shape" "$rows" "$month_rows" "$runs" "$(nproc)"
printf '%-16s %10s %10s %12s %10s\n' step seconds "peak MiB" rows/s "× floor"
for step in floor-copy floor-import floor floor-pg-import floor-pg full-sqlite full-postgres noop new-10k reclassify reclassify-flip month-xlsx month-json month-scan half-year half-scan gaps-20k topics-100k; do
  [ -n "${wall[$step]:-}" ] || continue
  s=${wall[$step]}; m=$(( ${rss[$step]} / 1024 ))
  case $step in
    floor*|full-*) rps=$(awk "BEGIN {printf \"%.0f\", $messages / ($s > 0 ? $s : 0.001)}") ;;
    reclassify*) rps=$(awk "BEGIN {printf \"%.0f\", $rows / ($s > 0 ? $s : 0.001)}") ;;
    new-10k) rps=$(awk "BEGIN {printf \"%.0f\", 10000 / ($s > 0 ? $s : 0.001)}") ;;
    *) rps="" ;;
  esac
  # Each full ingest against its own backend's floor, each report against a scan of its rows
  # (the "× floor" column), the other steps against SQLite's floor.
  base=$floor
  case $step in
    full-postgres|floor-pg*) base=${wall[floor-pg]} ;;
    month-*) base=${wall[month-scan]} ;;
    half-*) base=${wall[half-scan]} ;;
  esac
  base=$(awk "BEGIN {print ($base > 0 ? $base : 0.01)}")
  ratio=$(awk "BEGIN {printf \"%.2f\", $s / $base}")
  printf '%-16s %10s %10s %12s %10s\n' "$step" "$s" "$m" "$rps" "$ratio"
done
