/**
 * Makes SQLite's write-ahead log durable: off the event loop, one fdatasync shared by every commit
 * waiting for it (group commit), or on the calling thread when nothing else would wait for it.
 */
import { fdatasyncSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/**
 * Runs `syncOnce` on behalf of many callers. A caller is answered by a sync that started after
 * it called: while one sync runs, later callers wait for the next one, which starts when the
 * running one ends and serves all of them, since what they wrote may have missed the running one.
 *
 * A failed sync rejects every caller it serves.
 */
export class GroupSync {
  readonly #syncOnce: () => Promise<void>;
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;

  constructor(syncOnce: () => Promise<void>) {
    this.#syncOnce = syncOnce;
  }

  sync(): Promise<void> {
    if (this.#queued) return this.#queued;
    if (!this.#running) return this.#start();
    const startNext = () => {
      this.#queued = undefined;
      return this.#start();
    };
    this.#queued = this.#running.then(startNext, startNext);
    return this.#queued;
  }

  /** No sync is running or waiting to run. */
  get idle(): boolean {
    return !this.#running && !this.#queued;
  }

  /** Resolves once no sync is running or waiting to run, whatever their outcome. */
  async settled(): Promise<void> {
    while (this.#queued ?? this.#running) await (this.#queued ?? this.#running)!.catch(() => {});
  }

  #start(): Promise<void> {
    const tracked = this.#syncOnce().finally(() => {
      if (this.#running === tracked) this.#running = undefined;
    });
    this.#running = tracked;
    return tracked;
  }
}

/**
 * fdatasyncs a database's `-wal` file through its own descriptor. The file is opened at the first
 * sync after SQLite created it, and never created here: SQLite owns its existence. While the
 * database stays open the file keeps its inode (a WAL reset rewrites it from the start).
 *
 * A failed fdatasync fails every later one too: the kernel may have dropped the pages it could
 * not write, so a later fdatasync that succeeds would not prove the earlier commits durable.
 *
 * Handing an fdatasync to the thread pool costs two thread wake-ups: the pool's thread, then the
 * event loop when it is done. On the VM of docs/benchmarks.md that made a small commit's sync
 * take about 410 µs against 250 µs on the calling thread. So when `syncOnCaller` says that no
 * one else is waiting for the event loop, and no pooled sync is under way, the sync is made on
 * the calling thread, holding the loop for its duration.
 */
export class WalSync {
  readonly #path: string;
  readonly #syncOnCaller: () => boolean;
  readonly #group = new GroupSync(() => this.#syncFile());
  #file: Promise<FileHandle> | undefined;
  /** The descriptor once opened, for syncs on the calling thread. */
  #opened: FileHandle | undefined;
  #syncFailure: { error: unknown } | undefined;
  #closed = false;

  constructor(databasePath: string, options: WalSyncOptions = {}) {
    this.#path = `${databasePath}-wal`;
    this.#syncOnCaller = options.syncOnCaller ?? (() => false);
  }

  /** Resolves once everything written to the WAL before the call is on disk. */
  sync(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the database is closed'));
    if (this.#opened && this.#group.idle && this.#syncOnCaller()) return this.#datasync(this.#opened, true);
    return this.#group.sync();
  }

  /** Waits for the syncs already asked for, then closes the descriptor. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#group.settled();
    const file = await this.#file?.catch(() => undefined);
    await file?.close();
  }

  async #syncFile(): Promise<void> {
    const file = await this.#open();
    if (file) await this.#datasync(file, false);
  }

  /**
   * fdatasyncs `file` through the thread pool, or on the calling thread (then before this
   * returns); remembers a failure for every later sync.
   */
  async #datasync(file: FileHandle, onCaller: boolean): Promise<void> {
    if (this.#syncFailure) throw this.#syncFailure.error;
    try {
      if (onCaller) fdatasyncSync(file.fd);
      else await file.datasync();
    } catch (error) {
      this.#syncFailure = { error };
      throw error;
    }
  }

  /** The WAL's descriptor, or nothing while no commit has created the file: there is nothing to sync. */
  async #open(): Promise<FileHandle | undefined> {
    // 'r+' is O_RDWR without O_CREAT.
    this.#file ??= open(this.#path, 'r+');
    try {
      this.#opened = await this.#file;
      return this.#opened;
    } catch (error) {
      this.#file = undefined;
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}

export interface WalSyncOptions {
  /**
   * Asked at each sync: may it hold up the event loop? Yes when nothing else is waiting for the
   * loop (default: never).
   */
  syncOnCaller?: () => boolean;
}
