/**
 * The issuance benchmark's report: throughput, latency, resources, where the time went, and
 * the verdict (the target and the correctness line).
 */
import type { EnvelopeFigures, HistoryFigures, LedgerCheck } from './issuance-analysis';
import { mean, mib, ms, pct, percentile, say, secs, stroops, table, triple } from './issuance-common';
import type { ProbeFigures } from './issuance-probes';
import { loadAverage, MACHINE, POSTGRES, type ResourceSampler } from './issuance-resources';
import type { OperationFigures, TemporalFigures } from './issuance-temporal-metrics';
import { AMOUNT, type IssuanceRecord } from './issuance-tracker';

export const LEDGER_INTERVAL_MS = 1_000;
export const WATCHED = ['api', 'worker', 'temporal', 'sandbox', 'bench'] as const;
export type Watched = (typeof WATCHED)[number];

/** A ledger the sandbox closed with transactions in it (from its log). */
export interface LedgerClose {
  at: number;
  ledger: number;
  transactions: number;
  queued: number;
}

export interface RunFigures {
  run: string;
  mode: string;
  issuances: number;
  channels: number;
  /** NOVA_BACKGROUND_NICE, as START applies it to the worker and the dev server. */
  backgroundNice: number;
  databaseName: string;
  records: readonly IssuanceRecord[];
  polls: number;
  /** Open loop: how late the sender was at worst (NaN in closed loop). */
  maxLagMs: number;
  /** The measured window: from the first request to the last confirmation seen (or the wait's end). */
  window: { start: number; end: number };
  sampler: ResourceSampler;
  /** VmHWM of each watched process, read at the end of the window (KiB). */
  peaks: ReadonlyMap<Watched, number>;
  probes: ProbeFigures;
  temporal: TemporalFigures;
  histories: HistoryFigures;
  envelopes: EnvelopeFigures;
  closes: readonly LedgerClose[];
  ledger: LedgerCheck;
  campaign: { paid: string; reserved: string };
  timedOut: boolean;
}

/** Prints the report; returns whether the run was correct (every issuance paid exactly once). */
export function printReport(figures: RunFigures): boolean {
  const { run, mode, records, sampler, peaks, histories, envelopes, closes, ledger, campaign, maxLagMs } = figures;
  const { probes: probeFigures, temporal: temporalFigures, timedOut } = figures;
  const windowStart = figures.window.start;
  const windowEnd = figures.window.end;
  const accepted = records.filter((r) => r.acceptedAt !== undefined);
  const confirmed = records.filter((r) => r.confirmedAt !== undefined);
  const firstSent = Math.min(...records.map((r) => r.sentAt ?? Infinity));
  const lastSent = Math.max(...records.map((r) => r.sentAt ?? -Infinity));
  const firstAccept = Math.min(...accepted.map((r) => r.acceptedAt!));
  const lastAccept = Math.max(...accepted.map((r) => r.acceptedAt!));
  const confirmTimes = confirmed.map((r) => r.confirmedAt!).sort((a, b) => a - b);
  const lastConfirm = confirmTimes[confirmTimes.length - 1] ?? NaN;
  const overallRate = confirmed.length / ((lastConfirm - firstAccept) / 1000);
  const i10 = Math.floor(0.1 * (confirmTimes.length - 1));
  const i90 = Math.ceil(0.9 * (confirmTimes.length - 1));
  const middleRate = (i90 - i10) / ((confirmTimes[i90]! - confirmTimes[i10]!) / 1000);
  const acceptMs = accepted.map((r) => r.acceptMs!);
  const toConfirmed = confirmed.map((r) => r.confirmedAt! - r.acceptedAt!);
  const toObserved = confirmed.map((r) => r.observedAt! - r.acceptedAt!);
  const perFiveSeconds: number[] = [];
  for (const at of confirmTimes) {
    const bucket = Math.max(0, Math.floor((at - firstAccept) / 5_000));
    while (perFiveSeconds.length <= bucket) perFiveSeconds.push(0);
    perFiveSeconds[bucket]! += 1;
  }
  const windowCloses = closes.filter((close) => close.at >= firstAccept && close.at <= lastConfirm + 500);
  const ledgersInWindow = Math.max(1, Math.round((lastConfirm - firstAccept) / LEDGER_INTERVAL_MS));
  const paymentsPerLedger = windowCloses.map((close) => close.transactions);

  say('');
  say(
    `---- results: run ${run}, ${figures.issuances} issuances, ${mode}, ${figures.channels} channels, worker and Temporal at nice ${figures.backgroundNice} ----`,
  );
  table([
    ['throughput', ''],
    [
      '  offered (sent)',
      `${((records.length - 1) / ((lastSent - firstSent) / 1000)).toFixed(1)} issuances/s` +
        (Number.isFinite(maxLagMs) ? ` (sender max lag ${ms(maxLagMs)})` : ''),
    ],
    [
      '  accepted (first to last 202)',
      `${(accepted.length / ((lastAccept - firstAccept) / 1000)).toFixed(1)} issuances/s`,
    ],
    [
      '  confirmed, first accept -> last confirmation',
      `${overallRate.toFixed(2)} issuances/s over ${secs(lastConfirm - firstAccept)}`,
    ],
    ['  confirmed, steady middle (10th-90th pct)', `${middleRate.toFixed(2)} issuances/s`],
    ['  confirmed per 5 s', perFiveSeconds.join(' ')],
    ['latency (p50 / p95 / p99)', ''],
    [
      '  accept (POST -> 202 body)',
      `${triple(acceptMs, (v) => `${v.toFixed(1)} ms`)}  max ${ms(Math.max(...acceptMs))}`,
    ],
    ['  accept -> confirmed (worker wrote it)', triple(toConfirmed, secs)],
    ['  accept -> confirmed (seen by the poller)', `${triple(toObserved, secs)}  (${figures.polls} polls)`],
  ]);
  say('');
  // Accept latency split at two instants the platform recorded: the issuance row's createdAt
  // (the API's checks are done) and the workflow's start event (Temporal accepted the start).
  const split = accepted.filter((r) => histories.startedAt.has(r.id!));
  const apiChecks = split.map((r) => r.createdAt! - r.sentAt!);
  const startWorkflow = split.map((r) => histories.startedAt.get(r.id!)! - r.createdAt!);
  const respond = split.map((r) => r.acceptedAt! - histories.startedAt.get(r.id!)!);
  table([
    ['accept latency split (p50 / p95 / p99)', ''],
    ['  POST sent -> issuance row created', triple(apiChecks, ms)],
    ['  row created -> workflow start recorded', triple(startWorkflow, ms)],
    ['  workflow start recorded -> 202 read', triple(respond, ms)],
  ]);
  say('');
  const cpu = (name: string) => sampler.cpu(name, windowStart, windowEnd);
  const windowSeconds = (windowEnd - windowStart) / 1000;
  /** CPU milliseconds spent per confirmed issuance over the window. */
  const perIssuance = (percent: number) =>
    Number.isFinite(percent) && confirmed.length > 0
      ? `${Math.round(((percent / 100) * windowSeconds * 1000) / confirmed.length)} ms`
      : '-';
  const processRows = WATCHED.map((name) => [
    `  ${name}`,
    mib(peaks.get(name) ?? NaN),
    mib(sampler.maxSampledRss(name)),
    pct(cpu(name).meanPercent),
    pct(cpu(name).peakPercent),
    perIssuance(cpu(name).meanPercent),
  ]);
  const platform = ['api', 'worker', 'temporal', 'sandbox', POSTGRES].reduce(
    (sum, name) => sum + (cpu(name).meanPercent || 0),
    0,
  );
  const ours = platform + (cpu('bench').meanPercent || 0);
  table([
    [
      `process (window ${windowSeconds.toFixed(0)} s)`,
      'peak RSS',
      'max VmRSS',
      'CPU mean',
      'CPU peak 5 s',
      'CPU/issuance',
    ],
    ...processRows,
    [
      `  postgres (${figures.databaseName} backends)`,
      '-',
      '-',
      pct(cpu(POSTGRES).meanPercent),
      pct(cpu(POSTGRES).peakPercent),
      perIssuance(cpu(POSTGRES).meanPercent),
    ],
    ['  platform (all but bench)', '-', '-', pct(platform), '-', perIssuance(platform)],
    ['  whole machine (2 cores = 200%)', '-', '-', pct(cpu(MACHINE).meanPercent), pct(cpu(MACHINE).peakPercent), ''],
    ['  of which not this benchmark', '-', '-', pct(Math.max(0, cpu(MACHINE).meanPercent - ours)), '-', ''],
  ]);
  say(`load average after: ${loadAverage()}`);
  say(
    `probes every 0.5 s (p50 / p95 / max): ` +
      [...probeFigures.latencies]
        .map(
          ([name, values]) =>
            `${name} ${ms(percentile(values, 50))} / ${ms(percentile(values, 95))} / ${ms(Math.max(...values))}`,
        )
        .join('; '),
  );
  say(
    `database sessions (mean of samples): ` +
      [...probeFigures.sessions]
        .sort((a, b) => b[1] - a[1])
        .map(([state, count]) => `${state} ${count.toFixed(1)}`)
        .join('; '),
  );
  say('');
  say(`where the time went (${histories.workflows} workflow histories; wait = scheduled -> last attempt started):`);
  const stepRows: string[][] = [
    ['step', 'wait p50 / p95', 'run p50 / p95', 'attempts max', 'retried', 'last failures'],
    [
      '  first workflow task',
      `${ms(percentile(histories.firstWorkflowTaskWaitMs, 50))} / ${ms(percentile(histories.firstWorkflowTaskWaitMs, 95))}`,
      '',
      '',
      '',
      'from the task queue',
    ],
    [
      '  later workflow tasks',
      `${ms(percentile(histories.workflowTaskWaitMs, 50))} / ${ms(percentile(histories.workflowTaskWaitMs, 95))}`,
      `${ms(percentile(histories.workflowTaskRunMs, 50))} / ${ms(percentile(histories.workflowTaskRunMs, 95))}`,
      `${Math.max(0, ...histories.workflowTasksPerWorkflow)} per wf`,
      '-',
      '',
    ],
  ];
  for (const [name, times] of histories.steps) {
    stepRows.push([
      `  ${name}`,
      `${ms(percentile(times.waitMs, 50))} / ${ms(percentile(times.waitMs, 95))}`,
      `${ms(percentile(times.runMs, 50))} / ${ms(percentile(times.runMs, 95))}`,
      String(Math.max(0, ...times.attempts)),
      String(times.attempts.filter((attempt) => attempt > 1).length),
      [...times.lastFailures].map(([message, count]) => `${count}x ${message}`).join('; '),
    ]);
  }
  stepRows.push(['  whole workflow', triple(histories.workflowMs, secs), '', '', '', '']);
  table(stepRows);
  const busiest = (figures: OperationFigures[]) =>
    figures
      .slice(0, 5)
      .map((f) => `${f.operation} ${f.count} x ${f.meanMs.toFixed(1)} ms`)
      .join(', ');
  const persistenceMs = temporalFigures.persistence.reduce((sum, f) => sum + f.totalMs, 0);
  const { polls } = temporalFigures;
  say(
    `Temporal server: task polls answered ${polls.answered} (${pct((polls.sync / Math.max(1, polls.answered)) * 100)} sync match), ` +
      `timed out ${polls.timedOut}; busiest calls: ${busiest(temporalFigures.service)}`,
  );
  say(
    `Temporal persistence: ${secs(persistenceMs)} in ${temporalFigures.persistence.reduce((sum, f) => sum + f.count, 0)} operations ` +
      `(${pct((persistenceMs / (windowEnd - windowStart)) * 100)} of the window); busiest: ${busiest(temporalFigures.persistence)}`,
  );
  const holdMean = mean(envelopes.holdMs);
  say(
    `payments: ${envelopes.envelopes} envelopes (${envelopes.confirmedEnvelopes} confirmed) on ${envelopes.channelsUsed}/${figures.channels} channels, ` +
      `payments per transaction mean ${mean(envelopes.paymentsPerEnvelope).toFixed(2)}, max ${Math.max(0, ...envelopes.paymentsPerEnvelope)}; ` +
      `channel held per envelope (built -> confirmed) p50 ${ms(percentile(envelopes.holdMs, 50))}, mean ${ms(holdMean)} ` +
      `=> pool capacity ~${((figures.channels * 1000) / holdMean).toFixed(1)} transactions/s; ` +
      `channel busy ${pct((envelopes.holdMs.reduce((s, v) => s + v, 0) / (figures.channels * (lastConfirm - firstAccept))) * 100)} of the window`,
  );
  say(
    `ledger packing in the window: ${ledgersInWindow} ledgers, ${windowCloses.length} with transactions; per ledger ` +
      `max ${Math.max(0, ...paymentsPerLedger)}, mean ${(paymentsPerLedger.reduce((s, v) => s + v, 0) / ledgersInWindow).toFixed(2)}; ` +
      `sandbox queue at close max ${Math.max(0, ...windowCloses.map((close) => close.queued))}`,
  );
  say(
    `submission attempts: ${[...envelopes.attemptOutcomes].map(([key, count]) => `${key} ${count}`).join(', ')}; ` +
      `leases per channel: ${envelopes.leaseCounts.join(' ')}`,
  );

  // ---- verdict
  const refusals = records.filter((r) => r.refused !== undefined);
  const failures = records.filter((r) => r.failure !== undefined);
  const expectedPaid = stroops(AMOUNT) * BigInt(accepted.length);
  const campaignOk = stroops(campaign.paid) === expectedPaid && stroops(campaign.reserved) === 0n;
  const correct =
    refusals.length === 0 &&
    failures.length === 0 &&
    !timedOut &&
    confirmed.length === figures.issuances &&
    ledger.wrong.length === 0 &&
    ledger.checked === figures.issuances &&
    campaignOk;
  for (const r of refusals.slice(0, 5)) say(`refused #${r.index}: ${r.refused}`);
  for (const r of failures.slice(0, 5)) say(`failed ${r.id}: ${r.failure}`);
  for (const line of ledger.wrong.slice(0, 10)) say(`ledger: ${line}`);
  if (!campaignOk)
    say(
      `campaign: paid ${campaign.paid}, reserved ${campaign.reserved}; expected paid ${accepted.length} x ${AMOUNT}, reserved 0`,
    );
  const target = middleRate >= 20 && percentile(acceptMs, 99) < 100;
  say(
    `target (>= 20 confirmed/s sustained, accept p99 < 100 ms): ${target ? 'MET' : 'NOT MET'} ` +
      `(${middleRate.toFixed(2)}/s, p99 ${percentile(acceptMs, 99).toFixed(1)} ms)`,
  );
  say(
    `correctness: ${correct ? 'OK' : 'FAILED'} - ${accepted.length}/${figures.issuances} accepted, ` +
      `${confirmed.length} confirmed, ${failures.length} failed, ${refusals.length} refused; ledger: ` +
      `${ledger.checked - ledger.wrong.length}/${ledger.checked} wallets with exactly one successful payment; ` +
      `campaign paid ${campaign.paid}, reserved ${campaign.reserved}`,
  );
  return correct;
}
