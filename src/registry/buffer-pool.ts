/**
 * Fixed-size buffers taken for one write and given back once the socket has sent it. Streaming
 * blobs through a few reused buffers allocates nothing per chunk: a new buffer per chunk is
 * memory V8 only reclaims with full collections, which a gigabyte-sized pull triggers dozens of
 * times and which concurrent pulls turn into hundreds of megabytes of garbage. When pulls stop,
 * the idle buffers beyond a few are let go, so a burst of concurrent pulls is not paid for in
 * memory for the rest of the process's life. A buffer let go is freed at once (`freeChunk`), not
 * left to the next full collection.
 */
import { freeChunk } from '../services/blobs.ts';

export interface BufferPoolOptions {
  bufferBytes: number;
  /** Idle buffers kept at most; more are made when needed and freed when given back. */
  maxIdle: number;
  /** Idle buffers kept once nothing was taken for `quietMs`. */
  keepWhenQuiet: number;
  quietMs: number;
}

export class BufferPool {
  readonly #free: Buffer[] = [];
  readonly #options: BufferPoolOptions;
  #lastTaken = 0;
  #trimmer: NodeJS.Timeout | undefined;

  constructor(options: BufferPoolOptions) {
    this.#options = options;
  }

  take(): Buffer {
    this.#lastTaken = Date.now();
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.#options.bufferBytes);
  }

  /** `buffer` must no longer be referenced by anything (a pending read or write). */
  give(buffer: Buffer): void {
    const { bufferBytes, maxIdle, keepWhenQuiet } = this.#options;
    if (buffer.length !== bufferBytes) return;
    if (this.#free.length >= maxIdle) {
      freeChunk(buffer);
      return;
    }
    this.#free.push(buffer);
    if (this.#free.length > keepWhenQuiet) this.#scheduleTrim();
  }

  get idle(): number {
    return this.#free.length;
  }

  #scheduleTrim(): void {
    if (this.#trimmer) return;
    const { quietMs, keepWhenQuiet } = this.#options;
    this.#trimmer = setTimeout(() => {
      this.#trimmer = undefined;
      if (Date.now() - this.#lastTaken >= quietMs) for (const buffer of this.#free.splice(keepWhenQuiet)) freeChunk(buffer);
      else if (this.#free.length > keepWhenQuiet) this.#scheduleTrim();
    }, quietMs);
    this.#trimmer.unref();
  }
}
