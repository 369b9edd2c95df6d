#!/bin/sh
# The platform's namespace and its custom search attributes (SEARCH_ATTRIBUTES: Name=Type,...,
# the list in workflows/src/definitions/search-attributes.ts). Idempotent.
set -eu
address="${TEMPORAL_ADDRESS:-temporal:7233}"
namespace="${NAMESPACE:-default}"
until temporal operator cluster health --address "$address" >/dev/null 2>&1; do
  echo "waiting for Temporal at $address"
  sleep 2
done
temporal operator namespace describe --address "$address" --namespace "$namespace" >/dev/null 2>&1 ||
  temporal operator namespace create --address "$address" --namespace "$namespace" --retention "${RETENTION:-72h}"
existing="$(temporal operator search-attribute list --address "$address" --namespace "$namespace")"
for attribute in $(echo "$SEARCH_ATTRIBUTES" | tr ',' ' '); do
  name="${attribute%%=*}"
  type="${attribute#*=}"
  if echo "$existing" | grep -qw "$name"; then
    echo "search attribute $name exists"
  else
    temporal operator search-attribute create --address "$address" --namespace "$namespace" --name "$name" --type "$type"
  fi
done
echo "namespace $namespace is ready"
