# Multi-stage: build on Debian 12 with the project's own install script, run on bookworm-slim
# as a non-root user. No secret is baked in: configuration comes from the environment.
FROM debian:12 AS build
WORKDIR /src
COPY deploy/install-deps.sh deploy/install-deps.sh
RUN bash deploy/install-deps.sh --build
COPY . .
RUN cmake --preset release && cmake --build --preset release -j"$(nproc)" \
 && strip build/release/streamgate

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 libsqlite3-0 libpq5 zlib1g \
      libspdlog1.10 libfmt9 libboost-json1.81.0 libboost-url1.81.0 libprometheus-cpp-core1.0 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /app streamgate \
 && mkdir -p /app/data && chown streamgate /app/data
COPY --from=build /src/build/release/streamgate /usr/local/bin/streamgate
WORKDIR /app
USER streamgate
ENV LISTEN_ADDRESS=0.0.0.0 PORT=8000 LOG_FORMAT=json METRICS_ADDRESS=0.0.0.0 METRICS_PORT=9464
# 8000: the API; 9464: /metrics only, for the scraper (never published by the shipped nginx).
EXPOSE 8000 9464
# `streamgate healthcheck` reads the same settings as the server (PORT, LISTEN_ADDRESS, TLS_*) and
# asks its /readyz, so the check follows the configuration; no curl in the image.
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["/usr/local/bin/streamgate", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/streamgate"]
