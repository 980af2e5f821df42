#!/usr/bin/env bash
# The test command (README, "Tests"): formatting, lints, unit and integration tests.
# The integration tests need a PostgreSQL server (ITSTAT_TEST_DATABASE_URL, default
# postgres://postgres@127.0.0.1:5432/postgres; on a Debian machine whose cluster is stopped,
# this script starts it) and Python's aiosmtpd (installed from PyPI when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

url="${ITSTAT_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if ! pg_isready -d "$url" -q 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    echo "test.sh: starting PostgreSQL $version" >&2
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do pg_isready -d "$url" -q && break; sleep 1; done
  fi
  pg_isready -d "$url" -q || { echo "test.sh: no PostgreSQL answers at $url" >&2; exit 2; }
fi

# The mail tests talk to a real SMTP server on loopback: aiosmtpd, from PyPI.
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  echo "test.sh: installing aiosmtpd (SMTP server for the mail tests)" >&2
  python3 -m pip install --quiet --disable-pip-version-check aiosmtpd
fi

cargo fmt --all -- --check
# The tests run with the test hooks (the `test-hooks` feature: fault injection, the ITSTAT_NOW
# clock); the shipped build has none, so it is linted on its own too.
cargo clippy --all-targets --locked --features test-hooks -- -D warnings
cargo clippy --lib --bins --locked -- -D warnings
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --no-fail-fast --features test-hooks
else
  cargo test --locked --no-fail-fast --features test-hooks
fi
# Without the feature the hooks are inert: ITSTAT_NOW and ITSTAT_TEST_* change nothing
# (clock::tests and testing::tests, compiled only then). A filter matching no test would
# pass silently, so the count is checked.
inert=$(cargo test --lib --locked -- without_test_hooks 2>&1) || { echo "$inert" >&2; exit 1; }
echo "$inert" | grep -E 'test result: ok\. [1-9][0-9]* passed' \
  || { echo "$inert" >&2; echo "test.sh: the tests of the shipped build's inert hooks did not run" >&2; exit 1; }

# The benchmark, small, with the debug binary: proves scripts/bench.sh works (no timing checks),
# on the data shaped like real traffic (every question a text of its own).
bash scripts/bench.sh --smoke --shape distinct
