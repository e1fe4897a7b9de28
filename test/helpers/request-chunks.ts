/** Bytes cut into chunks the way Node hands a request body over: 64 KiB at most, each in a buffer of its own. */
export function requestChunks(content: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < content.length; offset += 64 * 1024) {
    const chunk = Buffer.allocUnsafeSlow(Math.min(64 * 1024, content.length - offset));
    content.copy(chunk, 0, offset);
    chunks.push(chunk);
  }
  return chunks;
}

export async function* yieldAll(chunks: Buffer[]): AsyncIterable<Uint8Array> {
  yield* chunks;
}
