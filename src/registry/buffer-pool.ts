/**
 * Fixed-size buffers taken for one write and given back once the socket has sent it. Streaming
 * blobs through a few reused buffers allocates nothing per chunk: a new buffer per chunk is
 * memory V8 only reclaims with full collections, which a gigabyte-sized pull triggers dozens of
 * times and which concurrent pulls turn into hundreds of megabytes of garbage.
 */
export class BufferPool {
  readonly #free: Buffer[] = [];

  /** Keeps at most `maxFree` idle buffers; more are made when needed and left to the collector. */
  constructor(
    readonly bufferBytes: number,
    private readonly maxFree: number,
  ) {}

  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.bufferBytes);
  }

  /** `buffer` must no longer be referenced by anything (a pending read or write). */
  give(buffer: Buffer): void {
    if (buffer.length === this.bufferBytes && this.#free.length < this.maxFree) this.#free.push(buffer);
  }

  get idle(): number {
    return this.#free.length;
  }
}
