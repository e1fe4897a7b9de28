/**
 * The `/acr/v1/` route table: path shape, required action, handler and OpenAPI description.
 * Repository names contain `/`, so one catch-all route dispatches on these shapes (more specific
 * suffixes first), and the OpenAPI document lists them from here.
 */
import type { AcrHandler } from './handlers.ts';
import { listCatalog, listManifestDetails, listTagDetails } from './handlers.ts';
import {
  deleteRepository,
  deleteTag,
  manifestPatchActions,
  showManifest,
  showRepository,
  showTag,
  updateManifest,
  updateRepository,
  updateTag,
} from './attribute-handlers.ts';

export type AcrAction = 'catalog' | 'metadata_read' | 'metadata_write' | 'delete' | 'quarantine_write';

export interface AcrRoute {
  method: 'GET' | 'PATCH' | 'DELETE';
  /** OpenAPI form of the path. */
  path: string;
  /** Group 1, if any, is the repository name; group 2 the tag or digest. */
  pattern: RegExp;
  /** What the caller needs; a function of the body where that decides it (every returned action is needed). */
  action: AcrAction | ((body: unknown) => AcrAction[]);
  handler: AcrHandler;
  summary: string;
  query: Record<string, object>;
  /** The JSON body of a PATCH. */
  body?: object;
  response: object;
}

const string = { type: 'string' } as const;
const nullableString = { type: ['string', 'null'] } as const;

const changeableAttributes = {
  type: 'object',
  properties: { deleteEnabled: { type: 'boolean' }, writeEnabled: { type: 'boolean' }, readEnabled: { type: 'boolean' }, listEnabled: { type: 'boolean' } },
} as const;

const paging = {
  n: { type: 'integer', minimum: 0, maximum: 1000, description: 'page size (default 100); a full page has a Link header to the next' },
  last: { type: 'string', description: 'continue after this entry (from the Link header)' },
} as const;

const orderby = { orderby: { type: 'string', enum: ['timedesc', 'timeasc'] } } as const;

const manifestAttributes = {
  type: 'object',
  properties: {
    ...changeableAttributes.properties,
    quarantineState: { type: ['string', 'null'], enum: ['Pending', 'Passed', 'Failed', null] },
    quarantineDetails: nullableString,
  },
} as const;

const manifestDetail = {
  type: 'object',
  properties: {
    digest: string,
    imageSize: { type: 'integer' },
    createdTime: string,
    lastUpdateTime: string,
    architecture: nullableString,
    os: nullableString,
    mediaType: string,
    configMediaType: nullableString,
    tags: { type: 'array', items: string },
    changeableAttributes: manifestAttributes,
  },
} as const;

const tagDetail = {
  type: 'object',
  properties: { name: string, digest: string, createdTime: string, lastUpdateTime: string, signed: { type: 'boolean' }, changeableAttributes },
} as const;

const repositoryDetail = {
  type: 'object',
  properties: {
    registry: string,
    imageName: string,
    createdTime: string,
    lastUpdateTime: string,
    manifestCount: { type: 'integer' },
    tagCount: { type: 'integer' },
    changeableAttributes,
  },
} as const;

const tagPattern = /^\/acr\/v1\/(.+)\/_tags\/([^/]+)$/;
const manifestPattern = /^\/acr\/v1\/(.+)\/_manifests\/([^/]+)$/;
const repositoryPattern = /^\/acr\/v1\/(.+)$/;
const tagResponse = { type: 'object', properties: { registry: string, imageName: string, tag: tagDetail } } as const;
const manifestResponse = { type: 'object', properties: { registry: string, imageName: string, manifest: manifestDetail } } as const;

export const acrRoutes: AcrRoute[] = [
  {
    method: 'GET',
    path: '/acr/v1/_catalog',
    pattern: /^\/acr\/v1\/_catalog$/,
    action: 'catalog',
    handler: listCatalog,
    summary: 'List repositories (az acr repository list)',
    query: paging,
    response: { type: 'object', properties: { repositories: { type: 'array', items: string } } },
  },
  {
    method: 'GET',
    path: '/acr/v1/{repository}/_tags',
    pattern: /^\/acr\/v1\/(.+)\/_tags$/,
    action: 'metadata_read',
    handler: listTagDetails,
    summary: 'List tags with digests and times (az acr repository show-tags --detail)',
    query: { ...paging, ...orderby, digest: { type: 'string', description: 'only tags of this manifest' } },
    response: {
      type: 'object',
      properties: {
        registry: string,
        imageName: string,
        tags: {
          type: 'array',
          items: tagDetail,
        },
      },
    },
  },
  {
    method: 'GET',
    path: '/acr/v1/{repository}/_manifests',
    pattern: /^\/acr\/v1\/(.+)\/_manifests$/,
    action: 'metadata_read',
    handler: listManifestDetails,
    summary: 'List manifests with sizes, platforms and tags (az acr repository show-manifests)',
    query: { ...paging, ...orderby },
    response: {
      type: 'object',
      properties: {
        registry: string,
        imageName: string,
        manifests: { type: 'array', items: manifestDetail },
      },
    },
  },
  {
    method: 'GET',
    path: '/acr/v1/{repository}/_tags/{reference}',
    pattern: tagPattern,
    action: 'metadata_read',
    handler: showTag,
    summary: 'Show a tag with its attributes (az acr repository show --image repo:tag)',
    query: {},
    response: tagResponse,
  },
  {
    method: 'PATCH',
    path: '/acr/v1/{repository}/_tags/{reference}',
    pattern: tagPattern,
    action: 'metadata_write',
    handler: updateTag,
    summary: 'Lock or unlock a tag (az acr repository update --image repo:tag)',
    query: {},
    body: changeableAttributes,
    response: tagResponse,
  },
  {
    method: 'DELETE',
    path: '/acr/v1/{repository}/_tags/{reference}',
    pattern: tagPattern,
    action: 'delete',
    handler: deleteTag,
    summary: 'Untag (az acr repository untag); refused while the tag or repository is locked',
    query: {},
    response: { type: 'null' },
  },
  {
    method: 'GET',
    path: '/acr/v1/{repository}/_manifests/{reference}',
    pattern: manifestPattern,
    action: 'metadata_read',
    handler: showManifest,
    summary: 'Show a manifest with its attributes and quarantine state (az acr repository show -t repo@digest)',
    query: {},
    response: manifestResponse,
  },
  {
    method: 'PATCH',
    path: '/acr/v1/{repository}/_manifests/{reference}',
    pattern: manifestPattern,
    action: manifestPatchActions,
    handler: updateManifest,
    summary: 'Lock or unlock a manifest (metadata_write), or decide its quarantine (quarantine_write: AcrQuarantineWriter)',
    query: {},
    body: manifestAttributes,
    response: manifestResponse,
  },
  {
    method: 'GET',
    path: '/acr/v1/{repository}',
    pattern: repositoryPattern,
    action: 'metadata_read',
    handler: showRepository,
    summary: 'Show a repository (az acr repository show)',
    query: {},
    response: repositoryDetail,
  },
  {
    method: 'PATCH',
    path: '/acr/v1/{repository}',
    pattern: repositoryPattern,
    action: 'metadata_write',
    handler: updateRepository,
    summary: 'Lock or unlock a whole repository (az acr repository update --repository)',
    query: {},
    body: changeableAttributes,
    response: repositoryDetail,
  },
  {
    method: 'DELETE',
    path: '/acr/v1/{repository}',
    pattern: repositoryPattern,
    action: 'delete',
    handler: deleteRepository,
    summary: 'Delete a repository with every manifest and tag (az acr repository delete); refused if anything in it is locked',
    query: {},
    response: { type: 'object', properties: { manifestsDeleted: { type: 'array', items: string }, tagsDeleted: { type: 'array', items: string } } },
  },
];
