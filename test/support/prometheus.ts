import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { repositoryRoot } from './repository-root';

const root = repositoryRoot;
export const DASHBOARD_PATH = resolve(root, 'docs', 'dashboards', 'nova-rewards.json');
export const ALERT_RULES_PATH = resolve(root, 'docs', 'alerts', 'nova-rewards.rules.yml');
export const RUNBOOK_PATH = resolve(root, 'docs', 'runbook.md');

/** One scrape in the Prometheus text format: each series (`name{labels}`) with its value. */
export interface Scrape {
  series: Map<string, number>;
  /** Names of the series present or declared (histograms as name_bucket, name_sum, name_count). */
  names: Set<string>;
}

export function parseScrape(text: string): Scrape {
  const series = new Map<string, number>();
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    // A declared family is exported even before its first sample (a counter never incremented yet).
    const declared = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)/.exec(line);
    if (declared) {
      const [, family, type] = declared as unknown as [string, string, string];
      const suffixes =
        type === 'histogram' ? ['_bucket', '_sum', '_count'] : type === 'summary' ? ['', '_sum', '_count'] : [''];
      for (const suffix of suffixes) names.add(`${family}${suffix}`);
    }
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const [, name, labels, value] = match as unknown as [string, string, string | undefined, string];
    names.add(name);
    series.set(`${name}${normalizeLabels(labels)}`, Number(value));
  }
  return { series, names };
}

// Labels sorted by name, so a test can name a series without knowing the exporter's order.
function normalizeLabels(labels: string | undefined): string {
  if (!labels || labels === '{}') return '';
  const pairs = [...labels.slice(1, -1).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(
    ([, key, value]) => `${key}="${value}"`,
  );
  return `{${pairs.sort().join(',')}}`;
}

/** The value of `name{labels}` (labels in any order), 0 when the series is absent (a counter not yet incremented). */
export function sample(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  const key = `${name}${normalizeLabels(
    `{${Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(',')}}`,
  )}`;
  return scrape.series.get(key) ?? 0;
}

/** Sum over every series of `name` whose labels include `labels`. */
export function sumOf(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const [key, value] of scrape.series) {
    const brace = key.indexOf('{');
    if ((brace === -1 ? key : key.slice(0, brace)) !== name) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) total += value;
  }
  return total;
}

const PROMQL_WORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'inf',
  'nan',
]);

/** The metric names a PromQL expression reads (functions, keywords, label names and strings left out). */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    // Grafana's variables ($__rate_interval, $task_queue)
    .replace(/\$\{?[a-zA-Z_]+\}?/g, '');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*(\()?)/g)) {
    const [word, call] = [match[0], match[1]];
    if (call || PROMQL_WORDS.has(word.toLowerCase())) continue;
    // A number's exponent or unit (1e3, 5m) is not a name.
    if (/^\d/.test(stripped.slice((match.index ?? 0) - 1, match.index ?? 0))) continue;
    names.add(word);
  }
  return [...names];
}

interface DashboardPanel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: DashboardPanel[];
}

/** Every query of the Grafana dashboard, with its panel's title. */
export function dashboardQueries(): { panel: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as { panels: DashboardPanel[] };
  const queries: { panel: string; expr: string }[] = [];
  const walk = (panels: DashboardPanel[]) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (target.expr) queries.push({ panel: panel.title ?? '(untitled)', expr: target.expr });
      }
      walk(panel.panels ?? []);
    }
  };
  walk(dashboard.panels);
  return queries;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The alert rule file, parsed; throws on YAML that does not parse. */
export function alertRules(): { groups: { name: string; rules: AlertRule[] }[] } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { load } = require('js-yaml') as { load(text: string): unknown };
  return load(readFileSync(ALERT_RULES_PATH, 'utf8')) as { groups: { name: string; rules: AlertRule[] }[] };
}

/** GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of every heading in docs/runbook.md. */
export function runbookAnchors(): Set<string> {
  const text = readFileSync(RUNBOOK_PATH, 'utf8');
  return new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map(([, heading]) => headingAnchor(heading ?? '')));
}
