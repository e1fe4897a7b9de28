/**
 * Makes SQLite's write-ahead log durable off the event loop, one fdatasync shared by every commit
 * waiting for it (group commit).
 */
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
 */
export class WalSync {
  readonly #path: string;
  readonly #group = new GroupSync(() => this.#syncFile());
  #file: Promise<FileHandle> | undefined;
  #syncFailure: { error: unknown } | undefined;
  #closed = false;

  constructor(databasePath: string) {
    this.#path = `${databasePath}-wal`;
  }

  /** Resolves once everything written to the WAL before the call is on disk. */
  sync(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the database is closed'));
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
    if (this.#syncFailure) throw this.#syncFailure.error;
    const file = await this.#open();
    if (!file) return;
    try {
      await file.datasync();
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
      return await this.#file;
    } catch (error) {
      this.#file = undefined;
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}
