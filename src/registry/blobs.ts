/** `/v2/<name>/blobs/<digest>`: fetch (whole or a range), check and delete blobs. */
import type { OutgoingHttpHeaders } from 'node:http';
import { BufferPool } from './buffer-pool.ts';
import type { RegistryContext } from './context.ts';
import { parseByteRange } from './http.ts';
import { sendBlobRange } from './send-blob.ts';
import { endOfTurn } from './turn-end.ts';

/**
 * Buffers of blob responses: two per pull in flight, 64 idle ones cover 32 concurrent pulls
 * without allocating, and 4 stay once pulls have stopped for a few seconds. 256 KiB reads keep
 * a single pull at the loopback's pace while 32 pulls hold 16 MiB rather than 32.
 */
const blobChunks = new BufferPool({ bufferBytes: 256 * 1024, maxIdle: 64, keepWhenQuiet: 4, quietMs: 3000 });

export async function headBlob({ registry, params, services, reply }: RegistryContext): Promise<void> {
  const { size } = await services.blobs.stat(registry, params.name, params.ref);
  reply
    .header('content-type', 'application/octet-stream')
    .header('content-length', size)
    .header('docker-content-digest', params.ref)
    .header('accept-ranges', 'bytes')
    .header('etag', `"${params.ref}"`);
  await endOfTurn();
  reply.send();
}

export async function getBlob({ registry, params, services, request, reply }: RegistryContext): Promise<void> {
  const blob = await services.blobs.stat(registry, params.name, params.ref);
  const { size } = blob;
  const range = parseByteRange(request.headers.range, size);
  const reader = await services.blobs.openReader(blob);
  reply
    .header('content-type', 'application/octet-stream')
    .header('docker-content-digest', params.ref)
    .header('accept-ranges', 'bytes')
    .header('etag', `"${params.ref}"`);
  if (range) {
    reply
      .code(206)
      .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
      .header('content-length', range.end - range.start + 1);
  } else {
    reply.header('content-length', size);
  }
  // From here on the body is written straight to the socket (see send-blob.ts); anything that
  // can fail with an error response has happened above.
  reply.hijack();
  const res = reply.raw;
  res.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
  try {
    await sendBlobRange(res, reader, range?.start ?? 0, range?.end ?? size - 1, blobChunks);
  } catch (error) {
    if (!res.destroyed) request.log.error({ err: error, digest: params.ref }, 'sending a blob failed');
    res.destroy();
  } finally {
    await reader.close().catch((error: unknown) => request.log.error({ err: error, digest: params.ref }, 'closing a blob failed'));
  }
}

export async function deleteBlob({ registry, params, services, reply }: RegistryContext): Promise<void> {
  await services.blobs.delete(registry, params.name, params.ref);
  reply.code(202).header('content-length', 0).send();
}
