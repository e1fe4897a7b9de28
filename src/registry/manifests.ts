/** `/v2/<name>/manifests/<reference>`: push, pull, check and delete manifests by tag or digest. */
import type { FastifyRequest } from 'fastify';
import { RegistryError } from '../oci/errors.ts';
import { MAX_MANIFEST_BYTES } from '../oci/manifest.ts';
import { parseManifestLookup, parseManifestReference } from '../oci/names.ts';
import type { ServedManifest } from '../services/manifests.ts';
import { changeOrigin } from './change-origin.ts';
import type { RegistryContext } from './context.ts';
import { queryValues } from './http.ts';
import { endOfTurn } from './turn-end.ts';

async function fetchManifest({ registry, params, services, request, principalMay }: RegistryContext): Promise<ServedManifest> {
  const mayReadQuarantined = () => principalMay(params.name, 'quarantine_read');
  return services.manifests.get(registry, params.name, parseManifestLookup(params.ref), request.headers.accept, mayReadQuarantined);
}

function manifestHeaders(context: RegistryContext, manifest: ServedManifest): void {
  context.reply
    .header('content-type', manifest.mediaType)
    .header('content-length', manifest.size)
    .header('docker-content-digest', manifest.digest)
    .header('etag', `"${manifest.digest}"`);
}

export async function getManifest(context: RegistryContext): Promise<void> {
  const manifest = await fetchManifest(context);
  manifestHeaders(context, manifest);
  await endOfTurn();
  context.reply.send(manifest.content);
}

export async function headManifest(context: RegistryContext): Promise<void> {
  const manifest = await fetchManifest(context);
  manifestHeaders(context, manifest);
  await endOfTurn();
  context.reply.send();
}

export async function putManifest(context: RegistryContext): Promise<void> {
  const { registry, params, services, request, reply } = context;
  const reference = parseManifestReference(params.ref);
  const body = await readLimited(request, MAX_MANIFEST_BYTES);
  const stored = await services.manifests.put(
    registry,
    params.name,
    reference,
    body,
    request.headers['content-type'],
    queryValues(request, 'tag'),
    changeOrigin(context),
  );
  reply
    .code(201)
    .header('location', `/v2/${params.name}/manifests/${stored.digest}`)
    .header('docker-content-digest', stored.digest)
    .header('content-length', 0);
  if (stored.subject) reply.header('oci-subject', stored.subject);
  reply.send();
}

export async function deleteManifest(context: RegistryContext): Promise<void> {
  const { registry, params, services, reply } = context;
  await services.manifests.delete(registry, params.name, parseManifestLookup(params.ref), changeOrigin(context));
  reply.code(202).header('content-length', 0).send();
}

/** Reads a request body into memory, refusing more than `limit` bytes (manifests only). */
async function readLimited(request: FastifyRequest, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request.raw) {
    total += (chunk as Buffer).length;
    if (total > limit) throw tooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}

function tooLarge(limit: number): RegistryError {
  return new RegistryError('SIZE_INVALID', `manifest exceeds the limit of ${limit} bytes`, { status: 413 });
}
