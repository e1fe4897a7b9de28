/**
 * Upload writers kept open between the requests of their session, so that a chunked upload does
 * not reopen its file for every chunk and its background writeback carries on between chunks.
 * Bounded in number; a writer is shut after a short idle time, when another writer of the same
 * upload takes its place, or when the oldest makes room for a new one.
 */

export interface ParkableWriter {
  /** Closes the writer for good (it is not parked again). */
  shut(): Promise<void>;
}

interface Entry<W> {
  writer: W;
  timer: NodeJS.Timeout;
}

export class ParkedWriters<W extends ParkableWriter> {
  private readonly entries = new Map<string, Entry<W>>();

  constructor(
    private readonly limit: number,
    private readonly idleMs: number,
  ) {}

  /** Keeps `writer` for the next `take(id)`; false when none may be kept (the caller shuts it). */
  park(id: string, writer: W): boolean {
    if (this.limit <= 0) return false;
    const previous = this.take(id);
    if (previous !== writer) shutQuietly(previous);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size < this.limit) break;
      this.discard(oldest);
    }
    const timer = setTimeout(() => this.discard(id), this.idleMs);
    timer.unref();
    this.entries.set(id, { writer, timer });
    return true;
  }

  /** The writer parked for `id`, now the caller's; undefined if none. */
  take(id: string): W | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.entries.delete(id);
    return entry.writer;
  }

  private discard(id: string): void {
    shutQuietly(this.take(id));
  }
}

/**
 * Nobody waits for a writer put aside; shutting it deals with (and reports through its upload)
 * any failure that matters, see `FsUploadWriter.shut`.
 */
function shutQuietly(writer: ParkableWriter | undefined): void {
  writer?.shut().catch(() => undefined);
}
