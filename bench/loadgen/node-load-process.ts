/**
 * One Node load process: `connections` request loops over keep-alive sockets for a fixed time.
 * Protocol on stdio: prints `ready`, waits for a line, runs, prints `result <json>`.
 */
import http from 'node:http';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadProcessConfig, LoadProcessResult } from './node-load.ts';

const config = JSON.parse(process.argv[2] ?? '{}') as LoadProcessConfig;
const agent = new http.Agent({ keepAlive: true, maxSockets: config.connections, maxFreeSockets: config.connections });
const url = new URL(config.url);

/** One request; resolves to whether it succeeded (2xx), after the body was read. */
function requestOnce(): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: config.method, headers: config.headers, agent }, (res) => {
      res.on('end', () => resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300));
      res.on('error', () => resolve(false));
      res.resume();
    });
    req.setTimeout(10_000, () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function run(): Promise<LoadProcessResult> {
  const latenciesUs: number[] = [];
  let errors = 0;
  const start = performance.now();
  const deadline = start + config.seconds * 1000;
  const loop = async () => {
    while (performance.now() < deadline) {
      const t = performance.now();
      const ok = await requestOnce();
      latenciesUs.push(Math.round((performance.now() - t) * 1000));
      if (!ok) {
        errors++;
        // A refusing server would otherwise be hammered in a tight loop.
        await sleep(10);
      }
    }
  };
  await Promise.all(Array.from({ length: config.connections }, loop));
  return { requests: latenciesUs.length, errors, durationMs: performance.now() - start, latenciesUs };
}

const input = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
process.stdout.write('ready\n');
await input.next();
const result = await run();
agent.destroy();
process.stdout.write(`result ${JSON.stringify(result)}\n`, () => process.exit(0));
