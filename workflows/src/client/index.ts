// The client side of the workflows (starts, signals, the reconciler's schedule): runs in the API
// and the worker, never inside a workflow (the bundle never sees it).
export * from './handoffs';
export * from './reconciler-schedule';
