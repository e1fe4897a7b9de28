/**
 * What `berth build`, `berth run` and `berth task` share about runs: where the context comes
 * from (a local folder is packed and uploaded), following a queued run — its log live on stdout,
 * or polling with `--no-logs` — to an exit status, and the `list-runs` table.
 */
import { once } from 'node:events';
import path from 'node:path';
import { Transform } from 'node:stream';
import type { CommandContext } from './context.ts';
import { packContext } from './context-archive.ts';
import { CliError } from './errors.ts';
import type { TableColumn } from './output.ts';

export interface Run {
  runId: string;
  task: string | null;
  status: string;
  platform?: { os?: string; architecture?: string; variant?: string };
  trigger?: string;
  startTime?: string | null;
  finishTime?: string | null;
  runErrorMessage?: string | null;
  [field: string]: unknown;
}

const finishedStatuses = new Set(['Succeeded', 'Failed', 'Canceled', 'Error', 'Timeout']);
const POLL_MS = 1000;
/** Longer than the longest run ACR allows (8 h); a run still going then is left to run. */
const MAX_FOLLOW_MS = 9 * 3600_000;

export function registryPath(registry: string, ...segments: string[]): string {
  return `/registries/${[registry, ...segments].map(encodeURIComponent).join('/')}`;
}

/** A git URL, tarball URL or OCI reference is passed to the server as it is; anything else is a local folder. */
export function isRemoteSource(source: string): boolean {
  return /^(https?|git|ssh|oci|file):\/\//i.test(source) || /^git@[^:]+:/.test(source);
}

/** A file of a local context (Dockerfile, task file): its path relative to the folder, which must contain it. */
export function contextRelative(folder: string, file: string, flag: string): string {
  const relative = path.relative(path.resolve(folder), path.resolve(folder, file)).split(path.sep).join('/');
  if (relative === '' || relative.startsWith('../') || relative === '..' || path.isAbsolute(relative)) {
    throw new CliError(`${flag} ${file}: give a path inside the context folder ${folder}`);
  }
  return relative;
}

/** Packs `folder` (honouring `.dockerignore`) and streams it to the server; answers its `upload:<id>` location. */
export async function uploadContext(context: CommandContext, registry: string, folder: string, alwaysInclude: string[]): Promise<string> {
  const archive = await packContext(folder, { alwaysInclude });
  let bytes = 0;
  const counted = archive.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        done(null, chunk);
      },
    }),
  );
  archive.on('error', (error) => counted.destroy(error));
  process.stderr.write(`Packing and uploading the build context ${folder} ...\n`);
  const { location } = await context.client.mgmtUpload<{ location: string }>(registryPath(registry, 'sources'), counted, 'application/gzip');
  process.stderr.write(`Uploaded the build context (${formatSize(bytes)}).\n`);
  return location;
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** The text of `chunks` without `prefix` when it starts with it. */
export async function* withoutPrefix(chunks: AsyncIterable<string>, prefix: string): AsyncGenerator<string> {
  let head = '';
  let decided = prefix === '';
  for await (const chunk of chunks) {
    if (decided) {
      yield chunk;
      continue;
    }
    head += chunk;
    if (head.length < prefix.length && prefix.startsWith(head)) continue;
    decided = true;
    yield head.startsWith(prefix) ? head.slice(prefix.length) : head;
  }
  if (!decided && head !== '') yield head;
}

/**
 * Writes a run's log to stdout as it arrives; with `follow`, until the run finishes. `printed`:
 * a first line already on the terminal, left out when the log starts with it.
 */
export async function printLog(context: CommandContext, registry: string, runId: string, follow: boolean, printed = ''): Promise<void> {
  const stream = await context.client.mgmtTextStream(`${registryPath(registry, 'runs', runId, 'log')}${follow ? '?follow=true' : ''}`);
  for await (const chunk of withoutPrefix(stream, printed)) {
    if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
  }
}

async function pollUntilFinished(context: CommandContext, registry: string, run: Run): Promise<Run> {
  const deadline = Date.now() + MAX_FOLLOW_MS;
  let current = run;
  while (!finishedStatuses.has(current.status)) {
    if (Date.now() > deadline) throw new CliError(`the run ${run.runId} is still ${current.status}; follow it with 'berth task logs -r ${registry} --run-id ${run.runId}'`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    current = await context.client.mgmt<Run>('GET', registryPath(registry, 'runs', run.runId));
  }
  return current;
}

export interface FollowOptions {
  /** `--no-wait` sets false: print the queued run and return. */
  wait: boolean;
  /** `--no-logs` sets false: wait without printing the log, then print the run. */
  logs: boolean;
}

/**
 * After queuing: follows the run as the options say, and fails (exit 1, one line naming the
 * status) when it does not end Succeeded.
 */
export async function followRun(context: CommandContext, registry: string, queued: Run, options: FollowOptions): Promise<void> {
  if (!options.wait) {
    context.print(queued, runTable);
    return;
  }
  let finished: Run;
  if (options.logs) {
    // Printed at once, before an agent takes the run; the log, which starts with the same line, follows.
    const queuedLine = `Queued a run with ID: ${queued.runId}\n`;
    process.stdout.write(queuedLine);
    await printLog(context, registry, queued.runId, true, queuedLine);
    finished = await pollUntilFinished(context, registry, await context.client.mgmt<Run>('GET', registryPath(registry, 'runs', queued.runId)));
  } else {
    process.stderr.write(`Queued a run with ID: ${queued.runId}\n`);
    finished = await pollUntilFinished(context, registry, queued);
    context.print(finished, runTable);
  }
  if (finished.status !== 'Succeeded') {
    throw new CliError(`Run ID: ${finished.runId} ended with status ${finished.status}${finished.runErrorMessage ? `: ${finished.runErrorMessage}` : ''}`);
  }
}

/** `2024-05-01T10:00:05.123Z` → `2024-05-01T10:00:05Z`, as az's tables show times. */
export function formatStarted(time: string | null | undefined): string {
  if (!time) return '';
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? time : `${date.toISOString().slice(0, 19)}Z`;
}

/** `HH:MM:SS` between start and finish (az's DURATION); empty while either is missing. */
export function formatDuration(start: string | null | undefined, finish: string | null | undefined): string {
  if (!start || !finish) return '';
  const seconds = Math.max(0, Math.floor((Date.parse(finish) - Date.parse(start)) / 1000));
  if (Number.isNaN(seconds)) return '';
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
}

export const runTable: TableColumn[] = [
  { header: 'RUN ID', value: (run) => run.runId },
  { header: 'TASK', value: (run) => run.task ?? '' },
  { header: 'PLATFORM', value: (run) => (run.platform as Run['platform'])?.os ?? '' },
  { header: 'STATUS', value: (run) => run.status },
  { header: 'TRIGGER', value: (run) => run.trigger ?? '' },
  { header: 'STARTED', value: (run) => formatStarted(run.startTime as string | null) },
  { header: 'DURATION', value: (run) => formatDuration(run.startTime as string | null, run.finishTime as string | null) },
];
