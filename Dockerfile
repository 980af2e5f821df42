# itstat in a container: `itstat schedule` runs the [[schedule]] jobs of /data/itstat.toml.
#
#   docker build -t itstat .
#   docker run -d --name itstat -v itstat-data:/data --env-file /etc/itstat/env itstat
#
# /data holds itstat.toml and the SQLite warehouse (back it up; see README "Operations").
# Secrets (ITSTAT_DIFY_URL, ITSTAT_SMTP_PASSWORD) come from the env file, never the image.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# The dependencies first, in a layer of their own (about half an hour on two cores): a change to
# itstat's own code then rebuilds only itstat. Its fingerprints go, so that the real sources
# below are compiled whatever their timestamps.
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src target/release/.fingerprint/itstat-* target/release/deps/itstat-* target/release/deps/libitstat-*
COPY src src
COPY sql sql
COPY migrations migrations
COPY tests/fixtures tests/fixtures
COPY itstat.example.toml ./
# The release profile strips the binary.
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin itstat \
    && mkdir -p /data && chown itstat /data
COPY --from=build /src/target/release/itstat /usr/local/bin/itstat
COPY itstat.example.toml /usr/share/itstat/itstat.example.toml
USER itstat
# The working folder makes /data/itstat.toml the config (`./itstat.toml` when it exists), and
# lets commands that need none, such as `itstat demo`, run in an empty volume.
WORKDIR /data
VOLUME ["/data"]
# Healthy when the warehouse answers (after the first ingest has created it).
HEALTHCHECK --interval=5m --timeout=30s --start-period=15m CMD ["itstat", "status", "--quiet"]
CMD ["itstat", "schedule"]
