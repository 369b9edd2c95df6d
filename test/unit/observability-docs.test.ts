import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  ALERT_RULES_PATH,
  DASHBOARD_PATH,
  alertRules,
  dashboardQueries,
  headingAnchor,
  metricNamesIn,
  runbookAnchors,
} from '../support/prometheus';

// The dashboard and the alert rules are operators' files: they must parse and say where to look.
// (That every metric they use is exported is checked against real scrapes: test/e2e/observability.test.ts.)
describe('dashboard, alert rules and runbook', () => {
  it('reads metric names out of PromQL, leaving functions, labels, durations and variables out', () => {
    assert.deepEqual(
      metricNamesIn(
        'sum by (le) (rate(nova_http_request_duration_seconds_bucket{route!="/metrics"}[$__rate_interval])) / ignoring(x) max(up{job="a"} offset 5m) > 1e3',
      ).sort(),
      ['nova_http_request_duration_seconds_bucket', 'up'],
    );
    assert.deepEqual(metricNamesIn('absent_over_time(temporal_num_pollers{poller_type="activity_task"}[5m]) == 1'), [
      'temporal_num_pollers',
    ]);
  });

  it('has a Grafana dashboard with queries on every panel', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as {
      uid: string;
      title: string;
      panels: { title: string; type: string; targets?: unknown[] }[];
    };
    assert.ok(dashboard.uid && dashboard.title);
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      assert.ok((panel.targets ?? []).length > 0, `panel "${panel.title}" has a query`);
    }
    for (const { panel, expr } of dashboardQueries()) {
      assert.ok(metricNamesIn(expr).length > 0, `panel "${panel}" reads a metric: ${expr}`);
    }
  });

  it('has alert rules in Prometheus rule-file shape, each naming its runbook section', () => {
    const { groups } = alertRules();
    assert.ok(groups.length > 0, `${ALERT_RULES_PATH} has groups`);
    const anchors = runbookAnchors();
    const names = new Set<string>();
    for (const group of groups) {
      assert.ok(group.name, 'a group has a name');
      assert.ok(group.rules.length > 0, `group ${group.name} has rules`);
      for (const rule of group.rules) {
        assert.match(rule.alert, /^[A-Z][A-Za-z0-9]+$/, 'an alert name in CamelCase');
        assert.ok(!names.has(rule.alert), `${rule.alert} is defined once`);
        names.add(rule.alert);
        assert.ok(rule.expr && metricNamesIn(rule.expr).length > 0, `${rule.alert} has an expression over metrics`);
        if (rule.for !== undefined) assert.match(rule.for, /^\d+[smh]$/, `${rule.alert}: for is a duration`);
        assert.ok(['critical', 'warning'].includes(rule.labels?.severity ?? ''), `${rule.alert}: severity label`);
        assert.ok(rule.annotations?.summary && rule.annotations.description, `${rule.alert}: summary and description`);
        const url = rule.annotations.runbook_url ?? '';
        const anchor = /docs\/runbook\.md#(.+)$/.exec(url)?.[1];
        assert.ok(anchor, `${rule.alert}: runbook_url names a section of docs/runbook.md (${url})`);
        assert.equal(anchor, headingAnchor(rule.alert), `${rule.alert}: its section is named after it`);
        assert.ok(anchors.has(anchor), `${rule.alert}: docs/runbook.md has no section #${anchor}`);
      }
    }
    for (const alert of ['IssuanceFailuresHigh', 'WebhookEndpointDisabled', 'ReconcilerBacklog', 'NoWorkerPolling']) {
      assert.ok(names.has(alert), `the rules cover ${alert}`);
    }
  });
});
