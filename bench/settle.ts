/** Lets the disk catch up before a timed transfer: `sync`, then a rest. */
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function settle(seconds: number): Promise<void> {
  if (seconds <= 0) return;
  await run('sync');
  await sleep(seconds * 1000);
}
