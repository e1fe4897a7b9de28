/**
 * The bytes of recently pulled manifests, keyed by digest and bounded by their total size, least
 * recently used first out. Content-addressed bytes never change, so an entry is never stale; it
 * decides nothing either: whether a manifest exists, and may be pulled, is read from the
 * metadata store on every request, so a deleted manifest is unknown at once whatever is cached.
 */
export class ManifestContentCache {
  readonly #entries = new Map<string, Buffer>();
  #bytes = 0;

  constructor(
    /** Total bytes kept. */
    private readonly maxBytes: number,
    /** Larger manifests are not kept, so that one cannot push out many. */
    private readonly maxEntryBytes = Math.floor(maxBytes / 16),
  ) {}

  get(digest: string): Buffer | undefined {
    const content = this.#entries.get(digest);
    if (content === undefined) return undefined;
    this.#entries.delete(digest);
    this.#entries.set(digest, content);
    return content;
  }

  set(digest: string, content: Buffer): void {
    if (content.length > this.maxEntryBytes || this.#entries.has(digest)) return;
    this.#entries.set(digest, content);
    this.#bytes += content.length;
    for (const [oldest, bytes] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= bytes.length;
    }
  }

  /** Total bytes held. */
  get bytes(): number {
    return this.#bytes;
  }
}
