/** Load with `wrk`: a generated Lua script sets method and headers and prints a JSON summary. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadRequest, LoadResult } from './load.ts';

const marker = 'BENCH_WRK_RESULT ';

interface WrkSummary {
  requests: number;
  duration_us: number;
  errors: number;
  p50_us: number;
  p99_us: number;
  mean_us: number;
  max_us: number;
}

function luaScript(request: LoadRequest): string {
  const headers = Object.entries(request.headers)
    .map(([name, value]) => `wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`)
    .join('\n');
  // Bodies are URL-encoded forms: plain ASCII, which a JSON string literal writes as Lua reads it.
  const body = request.body === undefined ? '' : `wrk.body = ${JSON.stringify(request.body)}\n`;
  return `wrk.method = ${JSON.stringify(request.method)}
${headers}
${body}done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('${marker}{"requests":%d,"duration_us":%d,"errors":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
`;
}

export async function runWrk(request: LoadRequest): Promise<LoadResult> {
  const dir = await mkdtemp(join(request.scratchDir, 'wrk-'));
  try {
    const script = join(dir, 'load.lua');
    await writeFile(script, luaScript(request));
    // wrk takes whole seconds only.
    const seconds = Math.max(1, Math.ceil(request.seconds));
    const args = ['-t', String(request.threads), '-c', String(request.connections), '-d', `${seconds}s`, '--timeout', '10s', '-s', script, request.url];
    const output = await runProcess('wrk', args, (seconds + 30) * 1000);
    const line = output.split('\n').find((l) => l.startsWith(marker));
    if (!line) throw new Error(`wrk printed no result:\n${output}`);
    const summary = JSON.parse(line.slice(marker.length)) as WrkSummary;
    const durationMs = summary.duration_us / 1000;
    return {
      tool: 'wrk',
      requests: summary.requests,
      errors: summary.errors,
      durationMs,
      requestsPerSecond: summary.requests / (durationMs / 1000),
      p50Ms: summary.p50_us / 1000,
      p99Ms: summary.p99_us / 1000,
      meanMs: summary.mean_us / 1000,
      maxMs: summary.max_us / 1000,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function runProcess(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${file} exited with ${code}:\n${output}`));
    });
  });
}
