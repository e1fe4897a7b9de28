/** `/v2/<name>/referrers/<digest>`: manifests whose `subject` is the digest, as an OCI image index. */
import { OCI_INDEX } from '../oci/media-types.ts';
import type { RegistryContext } from './context.ts';
import { queryValue } from './http.ts';

export async function listReferrers({ registry, params, services, request, reply }: RegistryContext): Promise<void> {
  const artifactType = queryValue(request, 'artifactType');
  const referrers = await services.manifests.referrers(registry, params.name, params.ref, artifactType);
  const manifests = referrers.map((referrer) => ({
    mediaType: referrer.mediaType,
    digest: referrer.digest,
    size: referrer.size,
    ...(referrer.artifactType ? { artifactType: referrer.artifactType } : {}),
    ...(referrer.annotations ? { annotations: referrer.annotations } : {}),
  }));
  if (artifactType !== undefined) reply.header('oci-filters-applied', 'artifactType');
  reply.header('content-type', OCI_INDEX).send(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests })));
}
