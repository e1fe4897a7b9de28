/**
 * The `/v2/` route table: every endpoint of the Distribution API with its handler and the access
 * it requires. Dispatch and authorization both read this one list.
 */
import type { FastifyRequest } from 'fastify';
import { checkVersion } from './base.ts';
import { deleteBlob, getBlob, headBlob } from './blobs.ts';
import { listRepositories } from './catalog.ts';
import type { RegistryHandler } from './context.ts';
import { deleteManifest, getManifest, headManifest, putManifest } from './manifests.ts';
import { listReferrers } from './referrers.ts';
import { listTags } from './tags.ts';
import { cancelUpload, completeUpload, getUploadStatus, mountSource, patchUpload, startUpload } from './uploads.ts';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Action = 'none' | 'pull' | 'push' | 'delete' | 'catalog';
/** What the last path segment holds, and so how it is validated. */
export type RefKind = 'none' | 'digest' | 'reference' | 'upload';

export interface RegistryRoute {
  method: Method;
  /** Documentation form of the path, e.g. `/v2/<name>/blobs/<digest>`. */
  path: string;
  action: Action;
  /**
   * Another repository the request reads when it can (a mount's source): a client following the
   * authentication challenge then asks for a token that also covers pulling from it.
   */
  alsoReads?: (request: FastifyRequest) => string | undefined;
  handler: RegistryHandler;
}

export interface PathShape {
  /** Matches the URL path; group 1 is the name, group 2 the last segment (if any). */
  pattern: RegExp;
  hasName: boolean;
  ref: RefKind;
}

/** Path shapes in matching order: more specific suffixes first, since names may contain '/'. */
export const pathShapes: Record<string, PathShape> = {
  '/v2/': { pattern: /^\/v2\/?$/, hasName: false, ref: 'none' },
  '/v2/_catalog': { pattern: /^\/v2\/_catalog$/, hasName: false, ref: 'none' },
  '/v2/<name>/tags/list': { pattern: /^\/v2\/(.+)\/tags\/list$/, hasName: true, ref: 'none' },
  '/v2/<name>/referrers/<digest>': { pattern: /^\/v2\/(.+)\/referrers\/([^/]+)$/, hasName: true, ref: 'digest' },
  '/v2/<name>/blobs/uploads/': { pattern: /^\/v2\/(.+)\/blobs\/uploads\/?$/, hasName: true, ref: 'none' },
  '/v2/<name>/blobs/uploads/<uuid>': { pattern: /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, hasName: true, ref: 'upload' },
  '/v2/<name>/blobs/<digest>': { pattern: /^\/v2\/(.+)\/blobs\/([^/]+)$/, hasName: true, ref: 'digest' },
  '/v2/<name>/manifests/<reference>': { pattern: /^\/v2\/(.+)\/manifests\/([^/]+)$/, hasName: true, ref: 'reference' },
};

export const registryRoutes: RegistryRoute[] = [
  { method: 'GET', path: '/v2/', action: 'none', handler: checkVersion },
  { method: 'HEAD', path: '/v2/', action: 'none', handler: checkVersion },
  { method: 'GET', path: '/v2/_catalog', action: 'catalog', handler: listRepositories },
  { method: 'GET', path: '/v2/<name>/tags/list', action: 'pull', handler: listTags },
  { method: 'GET', path: '/v2/<name>/referrers/<digest>', action: 'pull', handler: listReferrers },
  { method: 'POST', path: '/v2/<name>/blobs/uploads/', action: 'push', alsoReads: mountSource, handler: startUpload },
  { method: 'GET', path: '/v2/<name>/blobs/uploads/<uuid>', action: 'push', handler: getUploadStatus },
  { method: 'PATCH', path: '/v2/<name>/blobs/uploads/<uuid>', action: 'push', handler: patchUpload },
  { method: 'PUT', path: '/v2/<name>/blobs/uploads/<uuid>', action: 'push', handler: completeUpload },
  { method: 'DELETE', path: '/v2/<name>/blobs/uploads/<uuid>', action: 'push', handler: cancelUpload },
  { method: 'GET', path: '/v2/<name>/blobs/<digest>', action: 'pull', handler: getBlob },
  { method: 'HEAD', path: '/v2/<name>/blobs/<digest>', action: 'pull', handler: headBlob },
  { method: 'DELETE', path: '/v2/<name>/blobs/<digest>', action: 'delete', handler: deleteBlob },
  { method: 'GET', path: '/v2/<name>/manifests/<reference>', action: 'pull', handler: getManifest },
  { method: 'HEAD', path: '/v2/<name>/manifests/<reference>', action: 'pull', handler: headManifest },
  { method: 'PUT', path: '/v2/<name>/manifests/<reference>', action: 'push', handler: putManifest },
  { method: 'DELETE', path: '/v2/<name>/manifests/<reference>', action: 'delete', handler: deleteManifest },
];
