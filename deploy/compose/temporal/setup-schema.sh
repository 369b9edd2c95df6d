#!/bin/sh
# Creates or upgrades Temporal's two databases on its own PostgreSQL, as Temporal's own compose
# examples do with the admin-tools image (idempotent: `create` of an existing database fails
# harmlessly, `update-schema` applies only newer versions).
set -eu
tool() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" --pw "$POSTGRES_PWD" "$@"; }
schema=/etc/temporal/schema/postgresql/v12
for database in temporal temporal_visibility; do
  versioned="$schema/temporal/versioned"
  [ "$database" = temporal_visibility ] && versioned="$schema/visibility/versioned"
  tool --db "$database" create 2>/dev/null || echo "database $database exists"
  tool --db "$database" setup-schema -v 0.0 2>/dev/null || echo "schema of $database already set up"
  tool --db "$database" update-schema -d "$versioned"
done
echo 'Temporal schema is up to date'
