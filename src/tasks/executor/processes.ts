import { readdir, readFile } from 'node:fs/promises';

const SETTLE_TIMEOUT_MS = 5_000;
const POLL_MS = 100;

/**
 * Waits (bounded) for the processes whose command line names one of `paths` to exit, then kills
 * the ones still there: conmon and podman's clean-up commands of a store being removed.
 */
export async function settleProcessesUsing(paths: string[]): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  let remaining = await processesUsing(paths);
  while (remaining.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    remaining = await processesUsing(paths);
  }
  for (const pid of remaining) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // it exited meanwhile
    }
  }
}

async function processesUsing(paths: string[]): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const commandLine = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    // cmdline separates arguments with NUL: a path ends at a NUL or continues below it with a slash.
    if (paths.some((path) => commandLine.includes(`${path}/`) || commandLine.includes(`${path}\0`))) found.push(pid);
  }
  return found;
}
