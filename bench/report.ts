/**
 * Results: one table per workload with a column per target and, when there are two or more
 * targets, the ratio of the first (the subject) to the second (the baseline), turned so that
 * ≥ 1 always means the subject did better. Plus the raw results as JSON.
 */
import { cpus, loadavg, release, totalmem } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { describeLoadGenerator, type LoadGeneratorChoice } from './loadgen/load.ts';
import type { WorkloadSizes } from './options.ts';
import type { ResourceSummary } from './resources.ts';
import type { Goal, Metric } from './workloads/workload.ts';

export interface WorkloadResult {
  name: string;
  title: string;
  metrics: Metric[];
  error?: string;
  ms: number;
  /** Highest sampled RSS of the server during this workload, when it can be sampled. */
  peakRssMiB?: number;
  /** CPU the server used during this workload, setup included. */
  cpuSeconds?: number;
}

export interface TargetResult {
  name: string;
  kind: string;
  url: string;
  version?: string;
  /** What the registry asked for: none, basic or bearer (tokens, as docker uses them). */
  auth?: string;
  error?: string;
  workloads: WorkloadResult[];
  resources?: ResourceSummary;
}

export interface Machine {
  cpus: number;
  model: string;
  kernel: string;
  memoryGiB: number;
  node: string;
  /** 1, 5 and 15 minute load averages when the bench started: other work skews the results. */
  loadAverage: number[];
}

export interface BenchResults {
  date: string;
  machine: Machine;
  quick: boolean;
  sizes: WorkloadSizes;
  loadGenerator: LoadGeneratorChoice;
  targets: TargetResult[];
}

interface Row {
  label: string;
  better: Metric['better'];
  values: (number | string | undefined)[];
  goal?: Goal;
}

export function describeMachine(): Machine {
  const list = cpus();
  return {
    cpus: list.length,
    model: list[0]?.model.trim() ?? 'unknown',
    kernel: release(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export function formatHeader(results: BenchResults): string {
  const m = results.machine;
  const lines = [
    `Berth registry benchmark — ${results.date}${results.quick ? ' (quick)' : ''}`,
    `machine: ${m.cpus} CPU × ${m.model}, ${m.memoryGiB} GiB, kernel ${m.kernel}, node ${m.node}`,
    `load average at start: ${m.loadAverage.join(' ')} (anything else running skews the numbers)`,
    `load generator: ${describeLoadGenerator(results.loadGenerator)}`,
  ];
  for (const t of results.targets) {
    const details = [t.kind, t.url, t.version && `version ${t.version}`, t.auth && `auth ${t.auth}`].filter(Boolean);
    lines.push(`target ${t.name}: ${details.join(', ')}`);
  }
  return lines.join('\n');
}

export function formatTables(results: BenchResults, workloadOrder: { name: string; title: string }[]): string {
  const targets = results.targets;
  const compare = targets.length >= 2;
  const out: string[] = [];
  if (compare) {
    out.push(
      `ratio = ${targets[0]!.name} vs ${targets[1]!.name}, turned so that ≥ 1 means ${targets[0]!.name} is better:`,
      `  throughput (higher is better): ${targets[0]!.name} / ${targets[1]!.name};` +
        ` latency, time and memory (lower is better): ${targets[1]!.name} / ${targets[0]!.name}.`,
      'MB/s = 10^6 bytes per second.',
    );
  }
  const goals: string[] = [];
  for (const workload of workloadOrder) {
    // A workload only some targets run (Berth's token server) gets columns for those alone.
    const ran = targets.filter((t) => t.workloads.some((w) => w.name === workload.name));
    const rows = workloadRows(ran, workload.name);
    if (rows.length === 0) continue;
    const compareHere = compare && ran[0] === targets[0] && ran[1] === targets[1];
    out.push('', `== ${workload.title} ==`, renderTable(ran.map((t) => t.name), rows, compareHere));
    goals.push(...goalLines(ran, workload.name, rows));
  }
  if (goals.length > 0) out.push('', 'Goals (✓ met, ✗ missed):', ...goals);
  const names = targets.map((t) => t.name);
  const rssRows = memoryRows(targets, workloadOrder);
  if (rssRows.length > 0) out.push('', '== Server memory (RSS) ==', renderTable(names, rssRows, compare));
  const cpuRows = cpuTimeRows(targets, workloadOrder);
  if (cpuRows.length > 0) {
    out.push('', '== Server CPU time (context: setup included, manifests run for a fixed time) ==', renderTable(names, cpuRows, compare));
  }
  const failures = targets.flatMap((t) => [
    ...(t.error ? [`${t.name}: ${t.error}`] : []),
    ...t.workloads.filter((w) => w.error).map((w) => `${t.name} / ${w.name}: ${w.error}`),
  ]);
  if (failures.length > 0) out.push('', 'Failures:', ...failures.map((f) => `  - ${f.replaceAll('\n', '\n    ')}`));
  return out.join('\n');
}

function workloadRows(targets: TargetResult[], workload: string): Row[] {
  const rows = new Map<string, Row>();
  targets.forEach((target, column) => {
    const result = target.workloads.find((w) => w.name === workload);
    if (!result) return;
    for (const metric of result.metrics) {
      const label = metric.unit ? `${metric.name} (${metric.unit})` : metric.name;
      const row = rows.get(label) ?? { label, better: metric.better, values: targets.map(() => undefined), ...(metric.goal ? { goal: metric.goal } : {}) };
      row.values[column] = metric.value;
      rows.set(label, row);
    }
  });
  // A failed workload still gets its rows, marked as failed, when another target produced them.
  targets.forEach((target, column) => {
    if (target.workloads.find((w) => w.name === workload)?.error) {
      for (const row of rows.values()) row.values[column] ??= 'failed';
    }
  });
  const failedEverywhere = rows.size === 0 && targets.some((t) => t.workloads.find((w) => w.name === workload)?.error);
  if (failedEverywhere) {
    return [{ label: 'result', better: 'higher', values: targets.map((t) => (t.workloads.find((w) => w.name === workload)?.error ? 'failed' : undefined)) }];
  }
  return [...rows.values()];
}

function memoryRows(targets: TargetResult[], workloadOrder: { name: string }[]): Row[] {
  if (!targets.some((t) => t.resources)) return [];
  const rows: Row[] = [
    { label: 'idle after start-up (MiB)', better: 'lower', values: targets.map((t) => t.resources?.startRssMiB) },
    { label: 'peak RSS, VmHWM of the server (MiB)', better: 'lower', values: targets.map((t) => t.resources?.hwmMiB) },
    { label: 'peak RSS, sampled process tree (MiB)', better: 'lower', values: targets.map((t) => t.resources?.peakTreeRssMiB) },
  ];
  for (const workload of workloadOrder) {
    const values = targets.map((t) => t.workloads.find((w) => w.name === workload.name)?.peakRssMiB);
    if (values.some((v) => v !== undefined)) rows.push({ label: `  during ${workload.name} (MiB)`, better: 'lower', values });
  }
  return rows;
}

function cpuTimeRows(targets: TargetResult[], workloadOrder: { name: string }[]): Row[] {
  if (!targets.some((t) => t.resources)) return [];
  const rows: Row[] = [{ label: 'whole run (s)', better: 'none', values: targets.map((t) => t.resources?.cpuSeconds) }];
  for (const workload of workloadOrder) {
    const values = targets.map((t) => t.workloads.find((w) => w.name === workload.name)?.cpuSeconds);
    if (values.some((v) => v !== undefined)) rows.push({ label: `  ${workload.name} (s)`, better: 'none', values });
  }
  return rows;
}

/** Subject vs baseline, turned so ≥ 1 favours the subject. */
export function ratio(subject: unknown, baseline: unknown, better: Metric['better']): number | undefined {
  if (better === 'none' || typeof subject !== 'number' || typeof baseline !== 'number') return undefined;
  if (!(subject > 0) || !(baseline > 0)) return undefined;
  return better === 'higher' ? subject / baseline : baseline / subject;
}

export function meetsGoal(value: number, goal: Goal): boolean {
  return goal.op === '>=' ? value >= goal.value : value <= goal.value;
}

function formatGoal(goal: Goal): string {
  return `${goal.op === '>=' ? '≥' : '≤'} ${formatNumber(goal.value)}`;
}

/** One line per target and goal row: the value, the goal, met or missed. */
function goalLines(targets: TargetResult[], workload: string, rows: Row[]): string[] {
  return rows.flatMap((row) => {
    if (!row.goal) return [];
    const goal = row.goal;
    return targets.flatMap((target, column) => {
      const value = row.values[column];
      if (typeof value !== 'number') return [];
      return [`  ${meetsGoal(value, goal) ? '✓' : '✗'} ${target.name} / ${workload}: ${row.label} = ${formatNumber(value)}, goal ${formatGoal(goal)}`];
    });
  });
}

function renderTable(names: string[], rows: Row[], compare: boolean): string {
  const withGoals = rows.some((row) => row.goal);
  const header = ['', ...names, ...(compare ? ['ratio'] : []), ...(withGoals ? ['goal'] : [])];
  const body = rows.map((row) => {
    const cells = row.values.map((v) => {
      if (v === undefined) return '-';
      if (typeof v === 'string') return v;
      const text = row.better === 'none' && Number.isInteger(v) ? String(v) : formatNumber(v);
      return row.goal ? `${text} ${meetsGoal(v, row.goal) ? '✓' : '✗'}` : text;
    });
    const r = compare ? ratio(row.values[0], row.values[1], row.better) : undefined;
    return [
      row.label,
      ...cells,
      ...(compare ? [r === undefined ? '-' : `${r.toFixed(2)}`] : []),
      ...(withGoals ? [row.goal ? formatGoal(row.goal) : ''] : []),
    ];
  });
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((cells) => cells[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  return value.toFixed(abs >= 100 ? 0 : abs >= 10 ? 1 : 2);
}

export async function writeJson(path: string, results: BenchResults): Promise<void> {
  await writeFile(path, `${JSON.stringify(results, null, 2)}\n`);
}
