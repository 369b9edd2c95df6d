import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { ApplicationFailure } from '@temporalio/common';
import { bundleWorkflowCode, DefaultLogger, type LogEntry } from '@temporalio/worker';
import { temporalLogSink } from '@nova/worker';

function capturingLogger(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = pino({ level: 'info' }, stream);
  return {
    logger,
    lines: () =>
      chunks.flatMap((c) => c.split('\n').filter(Boolean)).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

// The worker's log lines from the Temporal SDK: useful (the error of a failed workflow) and short.
describe('worker logs', () => {
  it('a "Workflow failed" line carries the error: type, message and stack, not {}', () => {
    const { logger, lines } = capturingLogger();
    const failure = ApplicationFailure.nonRetryable('wallet G...: trustline-missing', 'TrustlineMissing');
    temporalLogSink(logger)({
      level: 'WARN',
      message: 'Workflow failed',
      meta: { workflowId: 'issuance/1', error: failure },
      timestampNanos: 0n,
    } as LogEntry);
    const [line] = lines();
    const error = line?.error as Record<string, unknown>;
    assert.equal(line?.msg, 'Workflow failed');
    assert.equal(line?.workflowId, 'issuance/1');
    assert.equal(error.message, 'wallet G...: trustline-missing');
    assert.equal(error.type, 'ApplicationFailure');
    assert.match(String(error.stack), /ApplicationFailure/);
  });

  it("the bundler's webpack report is a debug line, not an info line at every start", async () => {
    const { logger, lines } = capturingLogger();
    const sink = temporalLogSink(logger);
    const entries: LogEntry[] = [];
    await bundleWorkflowCode({
      workflowsPath: require.resolve('@nova/workflows'),
      logger: new DefaultLogger('INFO', (entry) => {
        entries.push(entry);
        sink(entry);
      }),
    });
    assert.ok(
      entries.some((e) => e.level === 'INFO' && /webpack/.test(e.message)),
      'the bundler reported',
    );
    const info = lines().filter((l) => l.level === 30);
    assert.ok(info.length > 0, 'its short summary stays');
    for (const line of info)
      assert.ok(String(line.msg).length < 200, `short info line: ${String(line.msg).slice(0, 80)}`);
  });
});
