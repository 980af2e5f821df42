#!/usr/bin/env bash
# The container, end to end: builds the image from the Dockerfile and checks what the README
# promises of it — a non-root user, the demo running in the slim runtime, `itstat schedule` as
# the default command running its jobs from the /data volume, the health check command
# answering, and `docker stop` (SIGTERM) ending it with exit code 0 within a few seconds.
#
#   bash scripts/docker-smoke.sh                 # needs a Docker daemon and Docker Hub
#   bash scripts/docker-smoke.sh --local-bases   # no Docker Hub: see below
#
# --local-bases makes local stand-ins for the two base images before building, for hosts that
# reach Debian's archive but not Docker Hub: `debian:bookworm-slim` from debootstrap (minbase)
# and `rust:1.95-bookworm` as that plus gcc and this host's Rust toolchain (rustup's stable,
# which must be 1.95), trusting the host's extra CA certificates. Needs root and debootstrap.
#
# Not part of the test command: the image's release build alone takes about half an hour on
# two cores. Exit code 0 when every check passed, 1 when one failed, 2 when Docker is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

image=itstat:smoke
name=itstat-smoke-$$
local_bases=no
for arg in "$@"; do
  case "$arg" in
    --local-bases) local_bases=yes ;;
    *) echo "docker-smoke.sh: unknown argument $arg (try --local-bases)" >&2; exit 1 ;;
  esac
done

docker info >/dev/null 2>&1 || { echo "docker-smoke.sh: no Docker daemon answers" >&2; exit 2; }

fail() { echo "docker-smoke.sh: FAILED: $*" >&2; exit 1; }
step() { echo "== $*" >&2; }

make_local_bases() {
  local work
  work=$(mktemp -d)
  step "debian:bookworm-slim from debootstrap (minbase)"
  debootstrap --variant=minbase bookworm "$work/slim" http://deb.debian.org/debian >"$work/debootstrap.log"
  rm -rf "$work/slim/var/lib/apt/lists/"* "$work/slim/var/cache/apt/"*.bin
  tar -C "$work/slim" -c . | docker import -c 'CMD ["bash"]' - debian:bookworm-slim >/dev/null
  step "rust:1.95-bookworm from it, gcc and this host's toolchain"
  mkdir "$work/rust"
  cp -a "$(rustup toolchain list -v | awk '/^stable/ {print $NF}')" "$work/rust/tc"
  rm -rf "$work/rust/tc/share/doc" "$work/rust/tc/lib/rustlib/src"
  # A host behind a TLS-intercepting proxy trusts extra CAs; cargo in the image must too.
  mkdir "$work/rust/ca"
  cp /usr/local/share/ca-certificates/*.crt "$work/rust/ca/" 2>/dev/null || true
  "$work/rust/tc/bin/rustc" --version | grep -q '^rustc 1\.95\.' || fail "rustup's stable toolchain is not 1.95"
  cat >"$work/rust/Dockerfile" <<'EOF'
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev make pkg-config ca-certificates git && rm -rf /var/lib/apt/lists/*
COPY ca /usr/local/share/ca-certificates
RUN update-ca-certificates
COPY tc /usr/local/rust
ENV CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
EOF
  docker build -q -t rust:1.95-bookworm "$work/rust" >/dev/null
  rm -rf "$work"
}

if [ "$local_bases" = yes ]; then make_local_bases; fi

step "docker build (a release build of itstat: this takes a while)"
started=$(date +%s)
docker build -t "$image" . >&2
echo "built $image in $(($(date +%s) - started)) s; $(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MiB", $1/1048576}')" >&2

data=$(mktemp -d)
cleanup() { docker rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$data"; }
trap cleanup EXIT
# The image's user owns /data in a named volume; a host folder must be given to it.
chown 10001 "$data"

step "runs as the non-root user"
uid=$(docker run --rm "$image" id -u)
[ "$uid" = 10001 ] || fail "the container runs as uid $uid, not 10001"

step "itstat demo in the runtime image"
docker run --rm -v "$data:/data" "$image" itstat demo --out /data/demo >&2
[ -s "$data/demo/itstat-month-2026-11.xlsx" ] || fail "the demo wrote no monthly workbook"

step "itstat schedule (the default command) runs a job every two seconds"
cat >"$data/itstat.toml" <<'EOF'
[warehouse]
url = "sqlite:///data/demo/itstat.db"

[[schedule]]
name = "smoke-report"
cron = "*/2 * * * * *"
run = ["report", "--period", "day", "--date", "2026-11-22", "--format", "xlsx", "--out", "/data/out"]
EOF
chown 10001 "$data/itstat.toml"
docker run -d --name "$name" -v "$data:/data" "$image" >/dev/null
for _ in $(seq 1 30); do
  [ -s "$data/out/itstat-day-2026-11-22.xlsx" ] && break
  sleep 1
done
[ -s "$data/out/itstat-day-2026-11-22.xlsx" ] || { docker logs "$name" >&2; fail "the scheduled report never appeared"; }

step "the health check command answers"
health=$(docker inspect -f '{{join .Config.Healthcheck.Test " "}}' "$image")
[ "$health" = "CMD itstat status --quiet" ] || fail "unexpected HEALTHCHECK: $health"
docker exec "$name" itstat status --quiet || fail "itstat status --quiet failed in the container"

step "docker stop: SIGTERM ends the scheduler with exit code 0"
started=$(date +%s)
docker stop -t 20 "$name" >/dev/null
took=$(($(date +%s) - started))
code=$(docker inspect -f '{{.State.ExitCode}}' "$name")
docker logs "$name" 2>&1 | tail -n 5 >&2
[ "$code" = 0 ] || fail "the scheduler exited with $code"
[ "$took" -le 10 ] || fail "the scheduler took $took s to stop"
echo "docker-smoke.sh: all checks passed (stopped in $took s)" >&2
