/**
 * The OpenAPI 3.1 document of Berth's own HTTP APIs — `/mgmt/v1/*`, `/acr/v1/*` and `/oauth2/*` —
 * generated from the routes' schemas (the Distribution API under `/v2/` has its own
 * specification). `/acr/v1/` is served by one catch-all route, so its endpoints are added from
 * its route table.
 */
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { acrRoutes } from './acr/routes.ts';

/** A route as registered, for checking that the document lists every one. */
export interface RouteRecord {
  method: string;
  url: string;
  hidden: boolean;
}

export const documentedPrefixes = ['/mgmt/v1/', '/acr/v1/', '/oauth2/'] as const;

const ociErrors = {
  type: 'object',
  properties: { errors: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, detail: {} } } } },
};

/** Registers the document generator; call before any route is registered. Returns the live route list. */
export async function registerOpenApi(app: FastifyInstance, version: string): Promise<RouteRecord[]> {
  const routes: RouteRecord[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, hidden: route.schema?.hide === true });
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Berth',
        version,
        description:
          'Management API (`/mgmt/v1`), ACR data-plane listings (`/acr/v1`) and the token server (`/oauth2`). ' +
          'Authenticate with Basic credentials of a user, service principal, registry admin user or token, or with a Berth access token.',
      },
      components: {
        securitySchemes: {
          basic: { type: 'http', scheme: 'basic' },
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        },
      },
      security: [{ basic: [] }, { bearer: [] }],
    },
    transform: ({ schema, url, route }) => {
      const documented = documentedPrefixes.some((prefix) => url.startsWith(prefix));
      if (!documented) return { schema: { ...schema, hide: true }, url };
      if (route.config?.access === 'public') return { schema: { ...schema, security: [] }, url };
      // GET /oauth2/token takes Basic credentials or none (anonymous pull); the POSTs carry theirs in the form.
      if (url.startsWith('/oauth2/')) return { schema: { ...schema, security: route.method === 'GET' ? [{ basic: [] }, {}] : [] }, url };
      return { schema, url };
    },
    transformObject: (document) => {
      if (!('openapiObject' in document)) return document.swaggerObject;
      const paths: Record<string, unknown> = { ...document.openapiObject.paths };
      for (const route of acrRoutes) paths[route.path] = { ...(paths[route.path] as object | undefined), [route.method.toLowerCase()]: acrOperation(route) };
      return { ...document.openapiObject, paths } as typeof document.openapiObject;
    },
  });
  return routes;
}

function acrOperation(route: (typeof acrRoutes)[number]): object {
  const parameters = [
    ...(route.path.includes('{repository}')
      ? [{ name: 'repository', in: 'path', required: true, description: 'repository name; may contain "/"', schema: { type: 'string' } }]
      : []),
    ...(route.path.includes('{reference}')
      ? [{ name: 'reference', in: 'path', required: true, description: 'a tag (under _tags) or a digest (under _manifests)', schema: { type: 'string' } }]
      : []),
    ...Object.entries(route.query).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
  ];
  const error = (description: string) => ({ description, content: { 'application/json': { schema: ociErrors } } });
  return {
    summary: route.summary,
    tags: ['acr'],
    parameters,
    ...(route.body && { requestBody: { required: true, content: { 'application/json': { schema: route.body } } } }),
    responses: {
      ...(route.method === 'DELETE' ? { 202: { description: 'Deleted', content: { 'application/json': { schema: route.response } } } } : { 200: { description: 'OK', content: { 'application/json': { schema: route.response } } } }),
      409: error('DENIED: locked (the message names the lock)'),
      401: error('authentication required (Bearer challenge)'),
      403: error('DENIED'),
      404: error('NAME_UNKNOWN'),
      429: error('TOOMANYREQUESTS'),
    },
  };
}
