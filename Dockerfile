# syntax=docker/dockerfile:1.7
#
# One image for the platform's processes: `api`, `worker` and `migrate` (the entrypoint's first
# argument; `api` by default). Build it with `docker build -t nova-rewards .`; the `sandbox`
# target is the local Stellar sandbox with the native contract host, for docker-compose only.
#
#   deps       every npm dependency (dev included), to build
#   build      `npm run build`: Prisma client, `tsc -b`, the typed client, the workflow bundle the worker loads
#   prod-deps  production dependencies of the API, the worker and the Prisma workspace only
#   contract-host-build, sandbox   the development network (never used in production)
#   runtime    the platform image (the last stage: the default target)

ARG NODE_IMAGE=node:20.20-bookworm-slim
ARG RUST_IMAGE=rust:1.95-bookworm

FROM ${NODE_IMAGE} AS node-base
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false

# The lock file and every workspace's package.json: the install layer stays cached until one changes.
FROM node-base AS manifests
COPY package.json package-lock.json ./
COPY config/package.json config/
COPY prisma/package.json prisma/
COPY domain/package.json domain/
COPY workflows/package.json workflows/
COPY activities/package.json activities/
COPY apps/stellar-sandbox/package.json apps/stellar-sandbox/
COPY apps/worker/package.json apps/worker/
COPY apps/api/package.json apps/api/
COPY clients/typescript/package.json clients/typescript/
COPY test/package.json test/

FROM manifests AS deps
# No dependency needs its install script (Prisma's engine download among them: the client runs
# on its WebAssembly query compiler, migrations on the WebAssembly schema engine).
RUN npm ci --ignore-scripts

FROM deps AS build
COPY tsconfig.json tsconfig.base.json ./
COPY scripts scripts
COPY config config
COPY prisma prisma
COPY domain domain
COPY workflows workflows
COPY activities activities
COPY apps apps
COPY clients clients
COPY test test
RUN npm run build

FROM manifests AS prod-deps
# Only the workspaces the image runs: not the test workspace (its testing libraries) nor the sandbox.
RUN npm ci --omit=dev --ignore-scripts --workspace=apps/api --workspace=apps/worker --workspace=prisma \
  # The Temporal core bridge ships a native library per platform: keep this machine's only.
  && find node_modules/@temporalio/core-bridge/releases -mindepth 1 -maxdepth 1 \
       ! -name "$(uname -m)-unknown-linux-gnu" -exec rm -rf {} + \
  && npm cache clean --force

# The native contract host runs the real Soroban contracts for the sandbox (a development tool).
FROM ${RUST_IMAGE} AS contract-host-build
WORKDIR /src
COPY .cargo .cargo
COPY contracts contracts
COPY apps/stellar-sandbox/contract-host apps/stellar-sandbox/contract-host
RUN cargo build --locked --profile host-release -p nova-contract-host \
      --manifest-path apps/stellar-sandbox/contract-host/Cargo.toml \
  && cp target/host-release/nova-contract-host /usr/local/bin/nova-contract-host

FROM node-base AS runtime-base
# One unprivileged user for every process (and the sandbox), so files written into shared
# volumes (the sandbox's keys.json, mode 0600) are readable by the platform's containers.
RUN groupadd --system --gid 10001 nova \
  && useradd --system --uid 10001 --gid nova --home-dir /home/nova --create-home --shell /usr/sbin/nologin nova
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 WORKER_METRICS_PORT=9464

FROM runtime-base AS sandbox
# The sandbox's dependencies (@nova/domain, the Stellar SDK) are among the platform's.
COPY --from=prod-deps /app/node_modules node_modules
COPY --from=build /app/package.json ./
COPY --from=build /app/domain/package.json domain/
COPY --from=build /app/domain/dist domain/dist
COPY --from=build /app/apps/stellar-sandbox/package.json apps/stellar-sandbox/
COPY --from=build /app/apps/stellar-sandbox/dist/src apps/stellar-sandbox/dist/src
COPY --from=contract-host-build /usr/local/bin/nova-contract-host /usr/local/bin/nova-contract-host
COPY --chmod=0755 deploy/image/sandbox-entrypoint.sh /usr/local/bin/nova-sandbox
RUN mkdir -p /data/stellar-sandbox && chown nova:nova /data/stellar-sandbox
USER nova
ENV SANDBOX_HOST=0.0.0.0 SANDBOX_PORT=8000 SANDBOX_DATA_DIR=/data/stellar-sandbox CONTRACT_HOST_PORT=4100
VOLUME /data/stellar-sandbox
EXPOSE 8000
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=12 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SANDBOX_PORT||8000)+'/').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/local/bin/nova-sandbox"]

FROM runtime-base AS runtime
COPY --from=prod-deps /app/node_modules node_modules
COPY --from=build /app/package.json ./
COPY --from=build /app/config/package.json config/
COPY --from=build /app/config/dist config/dist
COPY --from=build /app/domain/package.json domain/
COPY --from=build /app/domain/dist domain/dist
COPY --from=build /app/workflows/package.json workflows/
COPY --from=build /app/workflows/dist workflows/dist
COPY --from=build /app/activities/package.json activities/
COPY --from=build /app/activities/dist activities/dist
# The Prisma workspace: the compiled client, and for `migrate` the schema, migrations and config.
COPY --from=build /app/prisma/package.json /app/prisma/schema.prisma /app/prisma/prisma.config.ts prisma/
COPY --from=build /app/prisma/dist prisma/dist
COPY --from=build /app/prisma/migrations prisma/migrations
COPY --from=build /app/apps/worker/package.json apps/worker/
# dist/workflow-bundle.js is the prebuilt bundle the worker loads with NODE_ENV=production.
COPY --from=build /app/apps/worker/dist apps/worker/dist
COPY --from=build /app/apps/api/package.json apps/api/
COPY --from=build /app/apps/api/dist apps/api/dist
COPY --from=build /app/scripts/migrate.js scripts/
COPY --from=build /app/scripts/lib/exec.js /app/scripts/lib/paths.js /app/scripts/lib/prisma.js /app/scripts/lib/progress.js scripts/lib/
COPY --chmod=0755 deploy/image/nova.sh /usr/local/bin/nova
COPY --chmod=0755 deploy/image/healthcheck.js /usr/local/bin/nova-healthcheck
USER nova
EXPOSE 3000 9464
# The API's liveness (`api`, the default command); compose gives the worker its own check.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["nova-healthcheck", "api"]
ENTRYPOINT ["nova"]
CMD ["api"]
