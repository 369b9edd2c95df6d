#!/bin/sh
# The image's entrypoint: `api` (default), `worker` or `migrate`; anything else runs as given.
set -eu
cd /app
role="${1:-api}"
case "$role" in
  api) shift 2>/dev/null || true; exec node --enable-source-maps apps/api/dist/main.js "$@" ;;
  worker) shift; exec node --enable-source-maps apps/worker/dist/main.js "$@" ;;
  # Pending Prisma migrations against DATABASE_URL; quick when there are none.
  migrate) shift; exec node scripts/migrate.js "$@" ;;
  *) exec "$@" ;;
esac
