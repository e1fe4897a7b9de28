/**
 * Run logs: writers batch text into `TaskStore.appendRunLog` (at most every `flushMs`), and
 * readers replay a run's log and, when following, wait for more — woken at once by writers in
 * this process, polling the store for runs executed on another node.
 */
import { EventEmitter } from 'node:events';
import { finishedRunStatuses, type TaskStore } from '../meta/task-store.ts';

export interface RunLogOptions {
  /** Longest time text waits before it is stored; default 100 ms. */
  flushMs?: number;
  /** How often a follower looks at the store when nothing wakes it; default 500 ms. */
  pollMs?: number;
}

export class RunLogs {
  readonly #events = new EventEmitter();
  readonly #flushMs: number;
  readonly #pollMs: number;

  constructor(
    private readonly store: TaskStore,
    options: RunLogOptions = {},
  ) {
    this.#flushMs = options.flushMs ?? 100;
    this.#pollMs = options.pollMs ?? 500;
    this.#events.setMaxListeners(0);
  }

  /** A writer continuing the run's log after what is stored already. */
  async open(registry: string, runId: string): Promise<RunLogWriter> {
    const existing = await this.store.readRunLog(registry, runId, 0);
    const nextSeq = existing.length === 0 ? 0 : existing[existing.length - 1]!.seq + 1;
    return new RunLogWriter(this.store, registry, runId, nextSeq, this.#flushMs, () => this.notify(registry, runId));
  }

  /** Wakes followers of a run (new text, or the run finished). */
  notify(registry: string, runId: string): void {
    this.#events.emit(key(registry, runId));
  }

  /** The log's chunks as stored; with `follow`, keeps reading until the run has finished. */
  async *read(registry: string, runId: string, options: { follow: boolean; signal?: AbortSignal }): AsyncGenerator<string> {
    let next = 0;
    const readMore = async function* (this: RunLogs): AsyncGenerator<string> {
      for (const chunk of await this.store.readRunLog(registry, runId, next)) {
        next = chunk.seq + 1;
        yield chunk.text;
      }
    }.bind(this);
    if (!options.follow) {
      yield* readMore();
      return;
    }
    while (!options.signal?.aborted) {
      const woken = this.#wakeUp(registry, runId, options.signal);
      try {
        yield* readMore();
        const run = await this.store.getRun(registry, runId);
        if (!run || finishedRunStatuses.includes(run.status)) {
          // Whatever was written before the run finished is stored by now.
          yield* readMore();
          return;
        }
        await woken.promise;
      } finally {
        woken.cancel();
      }
    }
  }

  #wakeUp(registry: string, runId: string, signal: AbortSignal | undefined): { promise: Promise<void>; cancel(): void } {
    let cancel = () => {};
    const promise = new Promise<void>((resolve) => {
      const name = key(registry, runId);
      const done = () => {
        clearTimeout(timer);
        this.#events.off(name, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, this.#pollMs);
      this.#events.on(name, done);
      signal?.addEventListener('abort', done, { once: true });
      cancel = done;
    });
    return { promise, cancel };
  }
}

/** Appends text to one run's log in batches; `close` stores the rest. */
export class RunLogWriter {
  #buffer = '';
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #failure: unknown;

  constructor(
    private readonly store: TaskStore,
    private readonly registry: string,
    private readonly runId: string,
    private seq: number,
    private readonly flushMs: number,
    private readonly notify: () => void,
  ) {}

  write(text: string): void {
    if (text === '') return;
    this.#buffer += text;
    this.#timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Stores what is buffered; resolves when every earlier write is stored. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const text = this.#buffer;
    this.#buffer = '';
    if (text !== '') {
      const seq = this.seq++;
      this.#flushing = this.#flushing.then(async () => {
        try {
          await this.store.appendRunLog(this.registry, this.runId, seq, text);
          this.notify();
        } catch (error) {
          this.#failure ??= error;
        }
      });
    }
    return this.#flushing;
  }

  /** Flushes; throws if any append failed. */
  async close(): Promise<void> {
    await this.flush();
    if (this.#failure !== undefined) throw this.#failure;
  }
}

function key(registry: string, runId: string): string {
  return `${registry}/${runId}`;
}
