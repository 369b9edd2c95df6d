#!/bin/bash
# The local Stellar sandbox with the real contracts: the native contract host on loopback, then
# the sandbox (apps/stellar-sandbox) calling it. A development network for docker-compose only.
set -euo pipefail
cd /app
sandbox=apps/stellar-sandbox/dist/src
passphrase="${SANDBOX_NETWORK_PASSPHRASE:-$(node -p "require('./$sandbox/index.js').DEFAULT_NETWORK_PASSPHRASE")}"
# The sandbox deploys from the network's root account: the host must serve the same contract ids.
deployer="$(node -p "require('./$sandbox/index.js').contractDeployer(process.argv[1])" "$passphrase")"
nova-contract-host --port "$CONTRACT_HOST_PORT" --state "$SANDBOX_DATA_DIR/contracts-state.json" \
  --deployer "$deployer" --network-passphrase "$passphrase" &
host_pid=$!
for _ in $(seq 1 100); do
  if node -e "fetch('http://127.0.0.1:$CONTRACT_HOST_PORT/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then
    break
  fi
  kill -0 "$host_pid" 2>/dev/null || { echo 'nova-contract-host exited at start' >&2; exit 1; }
  sleep 0.2
done
export SANDBOX_CONTRACT_HOST_URL="http://127.0.0.1:$CONTRACT_HOST_PORT"
node --enable-source-maps "$sandbox/main.js" &
sandbox_pid=$!
# SIGTERM (docker stop) reaches both: the sandbox saves its ledger, the host has nothing to flush.
stopping=0
trap 'stopping=1; kill -TERM "$sandbox_pid" "$host_pid" 2>/dev/null || true' TERM INT
# Either process ending ends the container, so a restart policy brings both back together.
set +e
wait -n "$sandbox_pid" "$host_pid"
status=$?
kill -TERM "$sandbox_pid" "$host_pid" 2>/dev/null
wait "$sandbox_pid"
sandbox_status=$?
wait
# Asked to stop: the sandbox's own exit (0 once its ledger is saved) is the container's.
if [ "$stopping" = 1 ]; then exit "$sandbox_status"; fi
exit "$status"
