/**
 * Reading published blobs in tests the way the server does: through `openReader` and positional
 * `readInto` calls.
 */
import type { BlobReader, BlobStore } from '../../src/store/blob-store.ts';

const CHUNK_BYTES = 64 * 1024;

/** Yields an open blob's bytes from the start, through one reused buffer: a chunk is valid only until the next. */
export async function* readerChunks(reader: BlobReader): AsyncIterable<Buffer> {
  const buffer = Buffer.alloc(CHUNK_BYTES);
  for (let position = 0; ; ) {
    const bytes = await reader.readInto(buffer, position);
    if (bytes === 0) return;
    yield buffer.subarray(0, bytes);
    position += bytes;
  }
}

/** An open blob's whole content. */
export async function readerBytes(reader: BlobReader): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of readerChunks(reader)) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** A published blob's whole content; rejects as `openReader` does (`BlobNotFoundError`, `DIGEST_INVALID`). */
export async function readBlob(store: BlobStore, digest: string): Promise<Buffer> {
  const reader = await store.openReader(digest);
  try {
    return await readerBytes(reader);
  } finally {
    await reader.close();
  }
}
