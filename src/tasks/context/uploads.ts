import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ContextError, type UploadedSources } from './context-source.ts';
import { byteLimit } from './limits.ts';

const PREFIX = 'upload:';
const FILE_SUFFIX = '.tar.gz';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Uploaded context archives, one `<uuid>.tar.gz` file each in a folder (`<data>/tasks/sources`). */
export class UploadedSourceStore implements UploadedSources {
  constructor(readonly folder: string) {}

  async save(archive: NodeJS.ReadableStream, limitBytes: number): Promise<string> {
    await mkdir(this.folder, { recursive: true });
    const id = randomUUID();
    const file = this.fileOf(id);
    try {
      await pipeline(archive, byteLimit(limitBytes), createWriteStream(file, { flags: 'wx' }));
    } catch (error) {
      await rm(file, { force: true });
      throw error;
    }
    return PREFIX + id;
  }

  async remove(location: string): Promise<void> {
    await rm(this.fileOf(idOf(location)), { force: true });
  }

  /** The archive stored at an `upload:<id>` location; a ContextError if it is gone. */
  async open(location: string): Promise<Readable> {
    const id = idOf(location);
    try {
      const handle = await open(this.fileOf(id), 'r');
      return handle.createReadStream();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ContextError(`the uploaded context ${location} does not exist (any more)`);
      }
      throw error;
    }
  }

  /** Removes archives last written more than `maxAgeMs` ago (left by runs that never ended); returns how many. */
  async sweep(maxAgeMs: number, now = Date.now()): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
    let removed = 0;
    for (const name of names) {
      if (!name.endsWith(FILE_SUFFIX) || !UUID.test(name.slice(0, -FILE_SUFFIX.length))) continue;
      const file = path.join(this.folder, name);
      const info = await stat(file).catch(() => undefined);
      if (info !== undefined && now - info.mtimeMs > maxAgeMs) {
        await rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }

  private fileOf(id: string): string {
    return path.join(this.folder, id + FILE_SUFFIX);
  }
}

/** Whether a context location names an uploaded archive. */
export function isUploadLocation(location: string): boolean {
  return location.startsWith(PREFIX);
}

function idOf(location: string): string {
  const id = location.slice(PREFIX.length);
  if (!location.startsWith(PREFIX) || !UUID.test(id)) {
    throw new ContextError(`"${location}" is not an uploaded context location`);
  }
  return id;
}
