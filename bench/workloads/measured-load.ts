/**
 * One fixed-duration load measurement after an unmeasured warm-up, with the CPU the server, the
 * load generator and the whole machine used meanwhile: a server near one busy core (its event
 * loop) beside a load generator using far less shows that the server, not the load, set the pace.
 */
import { checkLoadErrors, runLoad, type LoadRequest, type LoadResult } from '../loadgen/load.ts';
import { machineBusySeconds, reapedChildrenCpuSeconds } from '../resources.ts';
import type { Goal, Metric, WorkloadContext } from './workload.ts';

export interface Measurement {
  result: LoadResult;
  /** Cores' worth of CPU the server used during the measured run, when it can be sampled. */
  serverCores: number | undefined;
  /** Cores' worth of CPU the load generator used (its processes, once they have exited). */
  loadCores: number | undefined;
  /** Cores' worth of CPU the whole machine used (server, load generator, anything else). */
  machineCores: number | undefined;
}

export async function measureLoad(
  ctx: WorkloadContext,
  what: string,
  request: Omit<LoadRequest, 'threads' | 'seconds' | 'scratchDir'>,
  seconds: number,
): Promise<Measurement> {
  ctx.checkTime();
  const full = { ...request, scratchDir: ctx.scratchDir };
  await runLoad(ctx.load, { ...full, seconds: ctx.sizes.manifestWarmupSeconds });
  const serverBefore = ctx.target.resources?.cpuSeconds();
  const machineBefore = machineBusySeconds();
  const loadBefore = reapedChildrenCpuSeconds();
  const start = performance.now();
  const result = await runLoad(ctx.load, { ...full, seconds });
  const wallSeconds = (performance.now() - start) / 1000;
  const serverAfter = ctx.target.resources?.cpuSeconds();
  const machineAfter = machineBusySeconds();
  const loadAfter = reapedChildrenCpuSeconds();
  checkLoadErrors(what, result);
  const cores = (before: number | undefined, after: number | undefined) =>
    before === undefined || after === undefined ? undefined : (after - before) / wallSeconds;
  const measurement: Measurement = {
    result,
    serverCores: cores(serverBefore, serverAfter),
    loadCores: cores(loadBefore, loadAfter),
    machineCores: cores(machineBefore, machineAfter),
  };
  const cpu = Object.entries({ server: measurement.serverCores, load: measurement.loadCores, machine: measurement.machineCores })
    .filter((entry): entry is [string, number] => entry[1] !== undefined)
    .map(([name, value]) => `${name} ${value.toFixed(2)}`);
  ctx.log(
    `${what}: ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms (${result.tool})` +
      (cpu.length > 0 ? `; CPU cores: ${cpu.join(', ')}` : ''),
  );
  return measurement;
}

/** Rows for a measurement: requests/s (with its goal, if any), p50, p99, the server's and the load generator's CPU. */
export function loadMetrics(label: string, measurement: Measurement, goal?: Goal): Metric[] {
  const { result, serverCores, loadCores, machineCores } = measurement;
  const by = `[${result.tool}]`;
  const metrics: Metric[] = [
    {
      name: `${label} requests/s ${by}`,
      unit: 'req/s',
      better: 'higher',
      value: result.requestsPerSecond,
      ...(goal ? { goal } : {}),
      detail: { ...result, serverCores, loadCores, machineCores },
    },
    { name: `${label} p50 latency ${by}`, unit: 'ms', better: 'lower', value: result.p50Ms },
    { name: `${label} p99 latency ${by}`, unit: 'ms', better: 'lower', value: result.p99Ms },
  ];
  if (serverCores !== undefined) metrics.push({ name: `${label} server CPU`, unit: 'cores', better: 'none', value: serverCores });
  if (loadCores !== undefined) metrics.push({ name: `${label} load generator CPU`, unit: 'cores', better: 'none', value: loadCores });
  return metrics;
}
