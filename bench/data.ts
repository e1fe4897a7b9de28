/**
 * Blob contents generated on the fly: a 32-byte header unique to the blob, then one shared
 * random pool repeated. Producing bytes costs no CPU (slices of the pool), so the client does
 * not compete with the server, and a 1 GiB blob never exists in memory. The digest is found
 * beforehand by streaming the same bytes through sha256.
 */
import { createHash, randomBytes } from 'node:crypto';
import { setImmediate } from 'node:timers/promises';

const poolBytes = 16 * 1024 * 1024;
const defaultChunkBytes = 1024 * 1024;
let pool: Buffer | undefined;

function sharedPool(): Buffer {
  pool ??= randomBytes(poolBytes);
  return pool;
}

export class GeneratedBlob {
  private readonly head: Buffer;
  private cachedDigest: string | undefined;

  constructor(
    readonly size: number,
    seed: string,
  ) {
    this.head = createHash('sha256').update(seed).update(randomBytes(16)).digest();
  }

  /** The bytes in `[offset, offset + length)`, as slices of at most `chunkBytes`. */
  *chunks(offset = 0, length = this.size - offset, chunkBytes = defaultChunkBytes): Generator<Buffer> {
    const end = Math.min(offset + length, this.size);
    const data = sharedPool();
    let position = offset;
    while (position < end) {
      let chunk: Buffer;
      if (position < this.head.length) {
        chunk = this.head.subarray(position, Math.min(this.head.length, end));
      } else {
        const poolOffset = (position - this.head.length) % data.length;
        chunk = data.subarray(poolOffset, poolOffset + Math.min(chunkBytes, data.length - poolOffset, end - position));
      }
      position += chunk.length;
      yield chunk;
    }
  }

  /** The sha256 digest, computed once; yields to the event loop now and then so timers keep running. */
  async digest(): Promise<string> {
    if (this.cachedDigest) return this.cachedDigest;
    const hash = createHash('sha256');
    let sinceYield = 0;
    for (const chunk of this.chunks(0, this.size, poolBytes)) {
      hash.update(chunk);
      sinceYield += chunk.length;
      if (sinceYield >= 64 * 1024 * 1024) {
        sinceYield = 0;
        await setImmediate();
      }
    }
    this.cachedDigest = `sha256:${hash.digest('hex')}`;
    return this.cachedDigest;
  }
}

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
