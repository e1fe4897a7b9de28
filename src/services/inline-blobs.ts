/**
 * Small blobs kept in the metadata database instead of the blob store.
 *
 * Why: a blob in the blob store is made durable in three steps, one after another — its data's
 * fdatasync, the directory fsync that makes its name durable, and the commit of its metadata link.
 * An image is mostly small blobs (its config, small layers, signatures, attestations), and for
 * those the steps cost far more than the bytes. A blob of at most `INLINE_BLOB_MAX_BYTES` is
 * instead written into its `blobs` row in the transaction that links it: one commit, grouped with
 * concurrent ones, and no file. Its bytes are read back from the row and go with the row when
 * garbage collection removes it (see services/gc.ts).
 *
 * Such a blob is held in memory while it is received: never more than the limit, after which the
 * bytes go on streaming to the blob store as usual.
 */
import type { BlobReader } from '../store/blob-store.ts';

/** The largest blob kept in the metadata database (an image config is typically 1–15 KiB). */
export const INLINE_BLOB_MAX_BYTES = 32 * 1024;

/**
 * Reads `source` whole if it holds at most `maxBytes` bytes. Otherwise stops as soon as it has
 * seen more and hands back an iterable of the same bytes: those read so far, then the rest.
 */
export async function readIfSmall(
  source: AsyncIterable<Uint8Array>,
  maxBytes: number,
): Promise<{ content: Buffer } | { content?: undefined; rest: AsyncIterable<Uint8Array> }> {
  const iterator = source[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done) return { content: Buffer.concat(chunks, total) };
    chunks.push(next.value);
    total += next.value.length;
    if (total > maxBytes) return { rest: resume(chunks, iterator) };
  }
}

async function* resume(head: Uint8Array[], iterator: AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  yield* head;
  for (;;) {
    const next = await iterator.next();
    if (next.done) return;
    yield next.value;
  }
}

/** Reads a blob kept in memory through the blob store's reader interface. */
export function bufferBlobReader(content: Buffer): BlobReader {
  return {
    size: content.length,
    async readInto(buffer: Buffer, position: number): Promise<number> {
      if (position >= content.length) return 0;
      return content.copy(buffer, 0, position, Math.min(content.length, position + buffer.length));
    },
    async close(): Promise<void> {},
  };
}
