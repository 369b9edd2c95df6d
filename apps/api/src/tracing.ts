import { startTracing } from '@nova/config/tracing';

// Imported first by main.ts: Node's http is instrumented before anything that makes requests loads.
startTracing('nova-api');
