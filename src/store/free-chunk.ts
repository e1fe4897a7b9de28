/**
 * Gives a written chunk's memory back at once. Node copies every chunk of a request body out of
 * the socket into a buffer of its own, and V8 frees such buffers only when a collection finds
 * them dead; a large push makes them faster than young-generation collections run, so up to
 * ~64 MiB of them wait for a full collection. `ArrayBuffer.prototype.transfer(0)` detaches the
 * buffer, which frees its bytes immediately. (Built into Node 21 and later; Node 20 has it with
 * `--harmony`, which the `berth` script passes. Without it this does nothing.)
 */
type Transferable = ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };

/**
 * `chunk` must be the whole of its buffer, and nothing may use that buffer again: its length
 * becomes 0. A chunk that is part of a larger buffer is left alone.
 */
export function freeChunk(chunk: Uint8Array): void {
  const buffer = chunk.buffer as Transferable;
  if (!(buffer instanceof ArrayBuffer) || chunk.byteOffset !== 0 || chunk.byteLength !== buffer.byteLength || !buffer.transfer) return;
  try {
    buffer.transfer(0);
  } catch {
    // A buffer its owner pinned (a detach key, e.g. WebAssembly memory) stays as it is.
  }
}
