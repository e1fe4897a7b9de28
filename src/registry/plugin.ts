/**
 * The OCI Distribution API as a Fastify plugin: one catch-all route under `/v2/` hands every
 * request to the route table, the gate admits the caller for the route's declared action, and one
 * error handler writes the spec's error JSON. Request bodies are never parsed here: handlers
 * stream them.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from '../oci/errors.ts';
import type { DataPlaneGate } from '../oauth/gate.ts';
import type { RegistryDirectory } from '../services/registry-directory.ts';
import type { RegistryContext, RegistryServices } from './context.ts';
import { matchRoute } from './dispatch.ts';

export interface RegistryPluginOptions {
  directory: RegistryDirectory;
  services: RegistryServices;
  gate: DataPlaneGate;
}

const API_VERSION_HEADER = 'docker-distribution-api-version';

export async function registryPlugin(app: FastifyInstance, options: RegistryPluginOptions): Promise<void> {
  const { directory, services, gate } = options;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  app.setErrorHandler((error: FastifyError, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendError(new RegistryError('NAME_UNKNOWN', `no endpoint matches ${request.url}`), request, reply),
  );

  const handle = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    reply.header(API_VERSION_HEADER, 'registry/2.0');
    const path = pathOf(request.url);
    const { route, params } = matchRoute(request.method, path);
    const registry = await directory.resolveHost(request.headers.host);
    const caller = await gate.admit(request, registry, params.name || undefined, route.action, route.alsoReads?.(request));
    const may: RegistryContext['may'] = (repository, action) => gate.permits(caller, registry, repository, action);
    const principalMay: RegistryContext['principalMay'] = (repository, action) => gate.principalMay(caller, registry, repository, action);
    await route.handler({ registry, params, services, request, reply, caller, may, principalMay });
  };

  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/v2',
    exposeHeadRoute: false,
    // The Distribution API is documented by its own specification, not in Berth's OpenAPI.
    schema: { hide: true },
    handler: handle,
  });
  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/v2/*',
    exposeHeadRoute: false,
    // The Distribution API is documented by its own specification, not in Berth's OpenAPI.
    schema: { hide: true },
    handler: handle,
  });
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function sendError(error: FastifyError | RegistryError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header(API_VERSION_HEADER, 'registry/2.0');
  if (error instanceof RegistryError) {
    reply.code(error.status).headers(error.headers);
    if (request.method === 'HEAD') return void reply.header('content-length', 0).send();
    return void reply.header('content-type', 'application/json').send(JSON.stringify(error.toJSON()));
  }
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status === 500) request.log.error({ err: error, method: request.method, url: request.url }, 'request failed');
  const body = { errors: [{ code: status === 500 ? 'UNKNOWN' : 'UNSUPPORTED', message: status === 500 ? 'internal server error' : error.message, detail: null }] };
  reply.code(status);
  if (request.method === 'HEAD') return void reply.header('content-length', 0).send();
  reply.header('content-type', 'application/json').send(JSON.stringify(body));
}
