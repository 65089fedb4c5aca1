# syntax=docker/dockerfile:1

# ---- build ------------------------------------------------------------------------------------
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src

# Dependencies first, against a stub crate, so editing the code does not rebuild them.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src tests/api \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > tests/api/main.rs \
    && cargo build --release --locked --bin schakel \
    && rm -rf src

COPY src ./src
COPY migrations ./migrations
# Migrations are embedded in the binary at compile time.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --bin schakel

# ---- run --------------------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin schakel \
    && install -d -o schakel -m 0700 /var/lib/schakel
COPY --from=build /src/target/release/schakel /usr/local/bin/schakel
USER schakel
ENV BIND_ADDR=0.0.0.0:8080 \
    LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["schakel"]
CMD ["serve"]
