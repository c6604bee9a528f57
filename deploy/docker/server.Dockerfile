# syntax=docker/dockerfile:1.7
# The Nestor server: REST API and the web app (a static export), models from npm packages.
# Build from the repository root:
#   docker build -f deploy/docker/server.Dockerfile -t nestor-server .
# Base images are pinned by digest; deploy/docker/pin-digests.sh refreshes the digests.

ARG NODE_IMAGE=node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0

FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CI=true NEXT_TELEMETRY_DISABLED=1 ONNXRUNTIME_NODE_INSTALL=skip
COPY . .
# npm ci installs exactly the lock file; its postinstall verifies every model (sha256) into /app/models.
# Then the web app is exported to apps/web/out and the build-only packages are dropped.
# The npm of package.json's packageManager (the image ships an older one) honours allowScripts.
RUN npm install -g npm@11.19.1 --no-audit --no-fund \
  && npm ci --no-audit --no-fund \
  && npm run build -w @nestor/web \
  && npm prune --omit=dev --no-audit --no-fund \
  && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# ffmpeg for videos, mkvtoolnix to keep variable frame rates exact (phone videos);
# an unprivileged user with a fixed id (the manifests run as 10001).
RUN apt-get update \
  && apt-get install -y --no-install-recommends ffmpeg mkvtoolnix \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --system --gid 10001 nestor \
  && useradd --system --uid 10001 --gid nestor --home-dir /nonexistent --shell /usr/sbin/nologin nestor
WORKDIR /app
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 \
  NESTOR_HOST=0.0.0.0 NESTOR_PORT=5050 NESTOR_MODELS_DIR=/app/models
# Owned by root and read-only to the service: nothing in the image can be changed at run time.
COPY --from=build --chown=root:root /app /app
USER 10001:10001
EXPOSE 5050 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "deploy/docker/healthcheck.mjs", "server"]
STOPSIGNAL SIGTERM
CMD ["node", "apps/server/bin/nestor-server.js"]
