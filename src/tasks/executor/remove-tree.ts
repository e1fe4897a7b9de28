import { chmod, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool } from './spawn-tool.ts';

/**
 * Removes a store directory that container tools may have left mounts in (a container's /dev/shm,
 * a crashed build's binds) and read-only directories in (vfs layers): unmounts what is below it,
 * deepest first, then deletes it, making directories writable if a first attempt is refused.
 */
export async function removeTree(dir: string): Promise<void> {
  for (const mountPoint of (await mountPointsUnder(dir)).reverse()) {
    await runTool('umount', ['-l', mountPoint], { env: { PATH: process.env.PATH }, timeoutMs: 10_000 });
  }
  try {
    await rm(dir, { recursive: true, force: true, maxRetries: 2 });
  } catch (error) {
    if (!isPermissionError(error)) throw error;
    await makeWritable(dir);
    await rm(dir, { recursive: true, force: true, maxRetries: 2 });
  }
}

async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o700).catch(() => undefined);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.isDirectory()) await makeWritable(join(dir, entry.name));
  }
}

function isPermissionError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM';
}

async function mountPointsUnder(dir: string): Promise<string[]> {
  const mountInfo = await readFile('/proc/self/mountinfo', 'utf8');
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return mountInfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mountPoint): mountPoint is string => mountPoint !== undefined)
    .map((raw) => raw.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((mountPoint) => mountPoint === dir || mountPoint.startsWith(prefix));
}
