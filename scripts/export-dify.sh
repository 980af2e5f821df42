#!/usr/bin/env bash
# Exports Dify's messages for `itstat ingest --from-file`, where itstat cannot reach Dify.
#
#   scripts/export-dify.sh DIFY_URL OUT.csv [SINCE]
#
# DIFY_URL: a read-only account, e.g. 'postgres://difyro@dify-db:5432/dify' (password from
# PGPASSWORD or ~/.pgpass). SINCE: a date such as 2026-11-01 to export only newer messages
# (default: everything). Runs sql/export_messages.sql in a read-only transaction.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 DIFY_URL OUT.csv [SINCE]" >&2
  exit 1
fi
url=$1
out=$2
since=${3:-1970-01-01}
if ! [[ $since =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]]; then
  echo "$0: SINCE must be a date like 2026-11-01, not '$since'" >&2
  exit 1
fi
here=$(cd "$(dirname "$0")/.." && pwd)
# psql's \copy takes its query on one line: drop comments and join the lines. The columns are
# the extract's (sql/dify/message_columns.sql), each probed one read through to_jsonb.
flat() { sed -e 's/--.*$//' "$1" | tr '\n' ' ' | sed -e 's/  */ /g' -e 's/^ *//' -e 's/ *$//'; }
columns=$(flat "$here/sql/dify/message_columns.sql" | sed -e "s/{{\([a-z_]*\)}}/to_jsonb(m) ->> '\1'/g")
query=$(flat "$here/sql/export_messages.sql" | sed -e "s/{{since}}/$since/")
query=${query/"{{columns}}"/"$columns"}
PGOPTIONS='-c default_transaction_read_only=on' psql "$url" -X -q -v ON_ERROR_STOP=1 \
  -c "\\copy ($query) TO '$out' WITH (FORMAT csv, HEADER)"
echo "wrote $out" >&2
