/**
 * The three ways a client can push a large blob: monolithic (POST, then one PUT carrying the
 * whole body), chunked (PATCHes with `Content-Range`, then an empty PUT) and streamed (one PATCH
 * with the whole body and no `Content-Range`, then an empty PUT).
 */
import type { RegistryClient } from './client.ts';
import type { GeneratedBlob } from './data.ts';

export type PushMode = 'monolithic' | 'chunked' | 'streamed';

export const pushModes: readonly PushMode[] = ['monolithic', 'chunked', 'streamed'];

export async function pushGeneratedBlob(
  client: RegistryClient,
  repository: string,
  blob: GeneratedBlob,
  mode: PushMode,
  chunkBytes: number,
): Promise<void> {
  const digest = await blob.digest();
  let location = await client.startUpload(repository);
  switch (mode) {
    case 'monolithic':
      await client.completeUpload(repository, location, digest, blob.chunks(), blob.size);
      return;
    case 'chunked':
      for (let start = 0; start < blob.size; start += chunkBytes) {
        const length = Math.min(chunkBytes, blob.size - start);
        location = await client.patchUpload(repository, location, blob.chunks(start, length), { start, length });
      }
      await client.completeUpload(repository, location, digest);
      return;
    case 'streamed':
      location = await client.patchUpload(repository, location, blob.chunks());
      await client.completeUpload(repository, location, digest);
      return;
  }
}
