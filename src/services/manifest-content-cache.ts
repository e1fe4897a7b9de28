/**
 * The bytes of recently pulled manifests, keyed by digest and bounded by their total size.
 * Content-addressed bytes never change, so an entry is never stale; it decides nothing either:
 * whether a manifest exists, and may be pulled, is read from the metadata store on every request,
 * so a deleted manifest is unknown at once whatever is cached.
 *
 * Eviction is second-chance ("clock"): the oldest entry goes first unless it was read since it was
 * last passed over, in which case it moves to the back. A hit only sets a flag. Moving every hit
 * to the back of the Map instead (delete and set again) makes V8 rebuild the Map's hash table
 * every few hits, in the old generation once the Map lives there: megabytes a second of garbage
 * only full collections reclaim, under exactly the load this cache is for.
 */
interface Entry {
  content: Buffer;
  readSinceSeen: boolean;
}

export class ManifestContentCache {
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;

  constructor(
    /** Total bytes kept. */
    private readonly maxBytes: number,
    /** Larger manifests are not kept, so that one cannot push out many. */
    private readonly maxEntryBytes = Math.floor(maxBytes / 16),
  ) {}

  get(digest: string): Buffer | undefined {
    const entry = this.#entries.get(digest);
    if (entry === undefined) return undefined;
    entry.readSinceSeen = true;
    return entry.content;
  }

  set(digest: string, content: Buffer): void {
    if (content.length > this.maxEntryBytes || this.#entries.has(digest)) return;
    this.#entries.set(digest, { content, readSinceSeen: false });
    this.#bytes += content.length;
    // Ends: every pass either drops an entry or clears a flag.
    while (this.#bytes > this.maxBytes) {
      const [oldest, entry] = this.#entries.entries().next().value as [string, Entry];
      this.#entries.delete(oldest);
      if (entry.readSinceSeen) {
        entry.readSinceSeen = false;
        this.#entries.set(oldest, entry);
      } else {
        this.#bytes -= entry.content.length;
      }
    }
  }

  /** Total bytes held. */
  get bytes(): number {
    return this.#bytes;
  }
}
