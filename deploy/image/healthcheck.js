#!/usr/bin/env node
// Container health check: `api` asks the API's liveness route (/health), `worker` its metrics
// endpoint (the worker serves no other HTTP). Exit 0 when it answers 200 within 2 seconds.
'use strict';
const role = process.argv[2] ?? 'api';
const url =
  role === 'worker'
    ? `http://127.0.0.1:${process.env.WORKER_METRICS_PORT || 9464}/metrics`
    : `http://127.0.0.1:${process.env.PORT || 3000}/health`;
fetch(url, { signal: AbortSignal.timeout(2000) }).then(
  (response) => process.exit(response.status === 200 ? 0 : 1),
  () => process.exit(1),
);
