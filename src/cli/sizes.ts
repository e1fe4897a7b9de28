/** Storage sizes on the command line: `50GiB`, `1.5TB`, `500MiB`, `1024` (bytes). */
import { InvalidArgumentError } from 'commander';

const multipliers: Record<string, number> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  tb: 1000 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** Bytes of a size with an optional unit (B, KB/MB/GB/TB in powers of 1000, KiB/MiB/GiB/TiB in powers of 1024). */
export function parseSize(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const multiplier = match ? multipliers[(match[2] || 'b').toLowerCase()] : undefined;
  if (!match || multiplier === undefined) {
    throw new InvalidArgumentError('expected a size such as 50GiB, 500MB or 1024 (bytes); units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB.');
  }
  const bytes = Math.round(Number(match[1]) * multiplier);
  if (!Number.isSafeInteger(bytes)) throw new InvalidArgumentError('the size is too large.');
  return bytes;
}
