/** `/v2/<name>/blobs/<digest>`: fetch (whole or a range), check and delete blobs. */
import type { RegistryContext } from './context.ts';
import { parseByteRange } from './http.ts';

export async function headBlob({ registry, params, services, reply }: RegistryContext): Promise<void> {
  const { size } = await services.blobs.stat(registry, params.name, params.ref);
  reply
    .header('content-type', 'application/octet-stream')
    .header('content-length', size)
    .header('docker-content-digest', params.ref)
    .header('accept-ranges', 'bytes')
    .header('etag', `"${params.ref}"`)
    .send();
}

export async function getBlob({ registry, params, services, request, reply }: RegistryContext): Promise<void> {
  const { size } = await services.blobs.stat(registry, params.name, params.ref);
  const range = parseByteRange(request.headers.range, size);
  const stream = await services.blobs.open(params.ref, range);
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
  return reply.send(stream);
}

export async function deleteBlob({ registry, params, services, reply }: RegistryContext): Promise<void> {
  await services.blobs.delete(registry, params.name, params.ref);
  reply.code(202).header('content-length', 0).send();
}
