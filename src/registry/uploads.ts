/** `/v2/<name>/blobs/uploads/...`: the blob upload protocol, one handler per protocol step. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isValidRepositoryName } from '../oci/names.ts';
import { rangeHeader, type UploadStatus } from '../services/uploads.ts';
import { RequestBody } from '../services/request-body.ts';
import type { RegistryContext } from './context.ts';
import { hasBody, parseContentRange, queryValue } from './http.ts';

function uploadLocation(name: string, id: string): string {
  return `/v2/${name}/blobs/uploads/${id}`;
}

function sendUploadState(reply: FastifyReply, name: string, upload: UploadStatus, status: number): void {
  reply
    .code(status)
    .header('location', uploadLocation(name, upload.id))
    .header('range', rangeHeader(upload.size))
    .header('docker-upload-uuid', upload.id)
    .header('content-length', 0)
    .send();
}

function sendBlobCreated(reply: FastifyReply, name: string, digest: string): void {
  reply
    .code(201)
    .header('location', `/v2/${name}/blobs/${digest}`)
    .header('docker-content-digest', digest)
    .header('content-length', 0)
    .send();
}

function body(request: FastifyRequest): RequestBody {
  return new RequestBody(request.raw);
}

/**
 * POST: a monolithic push (`?digest=`), a cross-repository mount (`?mount=&from=`), or a new
 * session. A mount needs pull on its source (`from`, or without it every repository of the
 * registry); when that is not granted it falls back to a new session, as when the blob is not found.
 */
export async function startUpload({ registry, params, services, request, reply, may }: RegistryContext): Promise<void> {
  const mount = queryValue(request, 'mount');
  if (mount !== undefined) {
    const from = queryValue(request, 'from');
    const readable = from === undefined || isValidRepositoryName(from) ? await may(from, 'pull') : false;
    if (readable && (await services.uploads.mount(registry, params.name, mount, from))) {
      return sendBlobCreated(reply, params.name, mount);
    }
  }
  const digest = queryValue(request, 'digest');
  if (digest !== undefined && mount === undefined) {
    const stored = await services.uploads.putMonolithic(registry, params.name, digest, body(request));
    return sendBlobCreated(reply, params.name, stored);
  }
  const upload = services.uploads.start(registry, params.name);
  if (services.uploads.chunkMinBytes > 0) reply.header('oci-chunk-min-length', services.uploads.chunkMinBytes);
  sendUploadState(reply, params.name, upload, 202);
}

/** The repository a mount (`?mount=&from=`) reads from, when it names a valid one. */
export function mountSource(request: FastifyRequest): string | undefined {
  if (queryValue(request, 'mount') === undefined) return undefined;
  const from = queryValue(request, 'from');
  return from !== undefined && isValidRepositoryName(from) ? from : undefined;
}

/** PATCH: append a chunk (`Content-Range` ordered) or stream the rest of the blob. */
export async function patchUpload({ registry, params, services, request, reply }: RegistryContext): Promise<void> {
  const range = parseContentRange(request.headers['content-range']);
  const upload = await services.uploads.append(registry, params.name, params.ref, body(request), range);
  sendUploadState(reply, params.name, upload, 202);
}

/** PUT: finish the upload, with or without a final chunk, under `?digest=`. */
export async function completeUpload({ registry, params, services, request, reply }: RegistryContext): Promise<void> {
  const range = parseContentRange(request.headers['content-range']);
  const digest = queryValue(request, 'digest');
  const source = hasBody(request) ? body(request) : undefined;
  const stored = await services.uploads.complete(registry, params.name, params.ref, digest, source, range);
  sendBlobCreated(reply, params.name, stored);
}

/** GET: where an interrupted upload stands. */
export async function getUploadStatus({ registry, params, services, reply }: RegistryContext): Promise<void> {
  const upload = await services.uploads.status(registry, params.name, params.ref);
  sendUploadState(reply, params.name, upload, 204);
}

/** DELETE: abandon the upload and free its bytes. */
export async function cancelUpload({ registry, params, services, reply }: RegistryContext): Promise<void> {
  await services.uploads.cancel(registry, params.name, params.ref);
  reply.code(204).header('content-length', 0).send();
}
