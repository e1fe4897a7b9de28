import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { Unpack, type ReadEntry } from 'tar';
import { ContextError } from './context-source.ts';
import { contextTooLarge } from './limits.ts';

/** What an archive entry claims to be, as far as deciding whether it may be extracted. */
export interface ArchiveEntryHeader {
  path: string;
  type: string;
  linkpath?: string;
}

const REGULAR_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'GNUDumpDir']);

function leavesRoot(relative: string): boolean {
  const normalized = posix.normalize(relative);
  return normalized === '..' || normalized.startsWith('../');
}

/** Why an entry may not be extracted into a build context, or undefined when it may. */
export function entryRefusal(entry: ArchiveEntryHeader): string | undefined {
  const { path, type } = entry;
  if (path.startsWith('/')) return `the entry "${path}" has an absolute path`;
  if (path.split('/').includes('..')) return `the entry "${path}" leads outside the context`;
  if (REGULAR_TYPES.has(type)) return undefined;
  const target = entry.linkpath ?? '';
  if (type === 'SymbolicLink') {
    if (target.startsWith('/')) return `the symbolic link "${path}" points to the absolute path "${target}"`;
    if (leavesRoot(posix.join(posix.dirname(path), target))) {
      return `the symbolic link "${path}" points outside the context ("${target}")`;
    }
    return undefined;
  }
  if (type === 'Link') {
    if (target.startsWith('/') || target.split('/').includes('..')) {
      return `the hard link "${path}" points outside the context ("${target}")`;
    }
    return undefined;
  }
  return `the entry "${path}" is a ${type} (device files, FIFOs and other special files are not allowed)`;
}

/** tar's messages start with a code (`TAR_BAD_ARCHIVE: …`) meaningless to a user. */
function withoutTarCode(message: string): string {
  return message.replace(/^TAR_[A-Z_]+: /, '');
}

/**
 * Extracts a tar (gzip'd or not) from `source` into the existing folder `into`, streaming. Refuses
 * absolute paths, `..`, links leading outside, special files, and more than `limitBytes` of file
 * content; tar itself refuses to write through a symbolic link. Owners are not restored.
 */
export function extractArchive(source: Readable, into: string, limitBytes: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    let extractedBytes = 0;
    let failed = false;

    const unpack = new Unpack({
      cwd: into,
      // Every tar warning (bad header, write through a symlink, …) fails the extraction.
      strict: true,
      preserveOwner: false,
      // The extracted total is limited below; a ratio limit would refuse legitimate files of zeros.
      maxDecompressionRatio: Infinity,
      filter: (_path, stat) => {
        if (failed) return false;
        const entry = stat as ReadEntry;
        const refusal = entryRefusal({ path: entry.path, type: entry.type, linkpath: entry.linkpath });
        if (refusal !== undefined) {
          fail(new ContextError(`the context archive cannot be used: ${refusal}`));
          return false;
        }
        extractedBytes += entry.size ?? 0;
        if (extractedBytes > limitBytes) {
          fail(contextTooLarge(limitBytes));
          return false;
        }
        return true;
      },
    });

    const onAbort = (): void => fail(signal.reason);
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      signal.removeEventListener('abort', onAbort);
      source.unpipe();
      source.destroy();
      // tar decorates the error it is given; a fresh one keeps the caller's error intact.
      unpack.abort(new Error('extraction stopped'));
      if (signal.aborted) reject(signal.reason);
      else if (error instanceof ContextError) reject(error);
      else {
        const message = error instanceof Error ? error.message : String(error);
        reject(new ContextError(`the context archive cannot be extracted: ${withoutTarCode(message)}`));
      }
    };

    if (signal.aborted) {
      fail(signal.reason);
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    source.on('error', fail);
    unpack.on('error', fail);
    unpack.on('close', () => {
      if (failed) return;
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    source.pipe(unpack as unknown as NodeJS.WritableStream);
  });
}
