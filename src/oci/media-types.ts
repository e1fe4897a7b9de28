/**
 * Media types Berth knows by name: the four manifest types it stores and serves, the schema 1
 * types it rejects, config types, and the non-distributable layer types a registry may lack.
 */

export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

export const DOCKER_SCHEMA1_MANIFEST = 'application/vnd.docker.distribution.manifest.v1+json';
export const DOCKER_SCHEMA1_SIGNED_MANIFEST = 'application/vnd.docker.distribution.manifest.v1+prettyjws';

export const DOCKER_CONTAINER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const OCI_IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

export const DOCKER_FOREIGN_LAYER = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';
export const OCI_NONDISTRIBUTABLE_LAYER = 'application/vnd.oci.image.layer.nondistributable.v1.tar';
export const OCI_NONDISTRIBUTABLE_LAYER_GZIP = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';
export const OCI_NONDISTRIBUTABLE_LAYER_ZSTD = 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd';

export type ManifestMediaType = typeof DOCKER_MANIFEST | typeof DOCKER_MANIFEST_LIST | typeof OCI_MANIFEST | typeof OCI_INDEX;

export const manifestMediaTypes: readonly ManifestMediaType[] = [DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_MANIFEST, OCI_INDEX];

const nonDistributableLayerTypes: ReadonlySet<string> = new Set([
  DOCKER_FOREIGN_LAYER,
  OCI_NONDISTRIBUTABLE_LAYER,
  OCI_NONDISTRIBUTABLE_LAYER_GZIP,
  OCI_NONDISTRIBUTABLE_LAYER_ZSTD,
]);

export function isManifestMediaType(value: string): value is ManifestMediaType {
  return (manifestMediaTypes as readonly string[]).includes(value);
}

export function isIndexMediaType(value: string): boolean {
  return value === OCI_INDEX || value === DOCKER_MANIFEST_LIST;
}

export function isSchema1MediaType(value: string): boolean {
  return value === DOCKER_SCHEMA1_MANIFEST || value === DOCKER_SCHEMA1_SIGNED_MANIFEST;
}

/** Layers whose bytes may live outside the registry (`urls`), so a manifest may reference them without them being pushed. */
export function isNonDistributableLayer(mediaType: string): boolean {
  return nonDistributableLayerTypes.has(mediaType);
}

/**
 * The shape RFC 6838 gives a media type (type "/" subtype, restricted-name characters, at most
 * 127 each), as the OCI descriptor schema requires; parameters are not allowed.
 */
const mediaTypeShape = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

export function isValidMediaType(value: string): boolean {
  return mediaTypeShape.test(value);
}

/** The bare, lower-cased media type of a Content-Type header value (parameters dropped), or '' when absent. */
export function essenceOf(contentType: string | undefined): string {
  if (contentType === undefined) return '';
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}
