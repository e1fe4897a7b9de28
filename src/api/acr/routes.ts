/**
 * The `/acr/v1/` route table: path shape, required action, handler and OpenAPI description.
 * Repository names contain `/`, so one catch-all route dispatches on these shapes (more specific
 * suffixes first), and the OpenAPI document lists them from here.
 */
import type { AcrHandler } from './handlers.ts';
import { listCatalog, listManifestDetails, listTagDetails, showRepository } from './handlers.ts';

export interface AcrRoute {
  /** OpenAPI form of the path. */
  path: string;
  /** Group 1, if any, is the repository name. */
  pattern: RegExp;
  action: 'catalog' | 'metadata_read';
  handler: AcrHandler;
  summary: string;
  query: Record<string, object>;
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

export const acrRoutes: AcrRoute[] = [
  {
    path: '/acr/v1/_catalog',
    pattern: /^\/acr\/v1\/_catalog$/,
    action: 'catalog',
    handler: listCatalog,
    summary: 'List repositories (az acr repository list)',
    query: paging,
    response: { type: 'object', properties: { repositories: { type: 'array', items: string } } },
  },
  {
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
          items: {
            type: 'object',
            properties: { name: string, digest: string, createdTime: string, lastUpdateTime: string, signed: { type: 'boolean' }, changeableAttributes },
          },
        },
      },
    },
  },
  {
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
        manifests: {
          type: 'array',
          items: {
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
              changeableAttributes,
            },
          },
        },
      },
    },
  },
  {
    path: '/acr/v1/{repository}',
    pattern: /^\/acr\/v1\/(.+)$/,
    action: 'metadata_read',
    handler: showRepository,
    summary: 'Show a repository (az acr repository show)',
    query: {},
    response: {
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
    },
  },
];
