/**
 * Writes a byte range of a blob to an HTTP response through two pooled buffers: while one is
 * being sent, the next chunk is read into the other. A buffer goes back to the pool only when
 * the socket has taken all of its bytes (the write callback); a buffer whose write never
 * completed (the client hung up) is left to the garbage collector instead.
 */
import type { ServerResponse } from 'node:http';
import type { BlobReader } from '../services/blobs.ts';
import type { BufferPool } from './buffer-pool.ts';

/** Resolves when `res` has handed `chunk` to the kernel; rejects if the response closes first. */
function write(res: ServerResponse, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const onClose = () => reject(new Error('the client closed the connection'));
    res.once('close', onClose);
    res.write(chunk, (error) => {
      res.off('close', onClose);
      if (error) reject(error);
      else resolve();
    });
  });
}

/** Sends bytes `start`..`end` (inclusive) of `reader`, then ends the response. */
export async function sendBlobRange(res: ServerResponse, reader: BlobReader, start: number, end: number, pool: BufferPool): Promise<void> {
  let position = start;
  let sending: { buffer: Buffer; written: Promise<void> } | undefined;
  let reading: Buffer | undefined;
  try {
    while (position <= end) {
      reading = pool.take();
      const wanted = Math.min(reading.length, end - position + 1);
      const chunk = wanted === reading.length ? reading : reading.subarray(0, wanted);
      const read = await reader.readInto(chunk, position);
      if (read !== wanted) throw new Error(`blob ends at byte ${position + read}, before the ${end + 1} recorded`);
      position += read;
      if (sending) {
        await sending.written;
        pool.give(sending.buffer);
      }
      sending = { buffer: reading, written: write(res, chunk) };
      reading = undefined;
      // Observed here so a rejection is never unhandled while the next read runs.
      sending.written.catch(() => undefined);
    }
    if (sending) {
      await sending.written;
      pool.give(sending.buffer);
    }
  } finally {
    if (reading) pool.give(reading);
  }
  res.end();
}
