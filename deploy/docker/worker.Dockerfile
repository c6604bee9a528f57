# syntax=docker/dockerfile:1.7
# The Nestor worker: runs queued jobs (videos, batches) from Redis; no web app, no port.
# Build from the repository root:
#   docker build -f deploy/docker/worker.Dockerfile -t nestor-worker .
# Base images are pinned by digest; deploy/docker/pin-digests.sh refreshes the digests.

ARG NODE_IMAGE=node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0

FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CI=true NEXT_TELEMETRY_DISABLED=1 ONNXRUNTIME_NODE_INSTALL=skip
COPY . .
# npm ci installs exactly the lock file; its postinstall verifies every model (sha256) into /app/models.
# The npm of package.json's packageManager (the image ships an older one) honours allowScripts.
RUN npm install -g npm@11.19.1 --no-audit --no-fund \
  && npm ci --no-audit --no-fund \
  && npm prune --omit=dev --no-audit --no-fund \
  && npm cache clean --force \
  && rm -rf apps/web

FROM ${NODE_IMAGE} AS runtime
# ffmpeg for videos, mkvtoolnix to keep variable frame rates exact (phone videos); user 10001.
RUN apt-get update \
  && apt-get install -y --no-install-recommends ffmpeg mkvtoolnix \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --system --gid 10001 nestor \
  && useradd --system --uid 10001 --gid nestor --home-dir /nonexistent --shell /usr/sbin/nologin nestor
WORKDIR /app
ENV NODE_ENV=production NESTOR_MODELS_DIR=/app/models
COPY --from=build --chown=root:root /app /app
USER 10001:10001
# A worker that cannot reach its queue is unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "deploy/docker/healthcheck.mjs", "worker"]
STOPSIGNAL SIGTERM
CMD ["node", "apps/cli/bin/nestor.js", "worker"]
