/**
 * ACR's data-plane listings under `/acr/v1/` as a Fastify plugin: one catch-all GET route
 * dispatches on the route table; callers pass the same gate as on `/v2/`; errors are OCI error JSON.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from '../../oci/errors.ts';
import { assertRepositoryName } from '../../oci/names.ts';
import type { DataPlaneGate } from '../../oauth/gate.ts';
import { requestLoginServer } from '../../oauth/login-server.ts';
import type { AttributeService } from '../../services/attributes.ts';
import type { ListingService } from '../../services/listings.ts';
import type { RegistryDirectory } from '../../services/registry-directory.ts';
import { acrRoutes, type AcrRoute } from './routes.ts';

export interface AcrApiOptions {
  directory: RegistryDirectory;
  listings: ListingService;
  attributes: AttributeService;
  gate: DataPlaneGate;
}

export async function acrApi(app: FastifyInstance, { directory, listings, attributes, gate }: AcrApiOptions): Promise<void> {
  app.setErrorHandler((error: FastifyError, request, reply) => sendError(error, request, reply));

  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/acr/v1/*',
    exposeHeadRoute: false,
    // Documented per endpoint from the route table instead.
    schema: { hide: true },
    handler: async (request, reply) => {
      const path = request.url.split('?', 1)[0]!;
      const { route, repository, segment } = match(request.method, path);
      const registry = await directory.resolveHost(request.headers.host);
      const actions = typeof route.action === 'function' ? route.action(request.body) : [route.action];
      let caller;
      for (const action of actions) caller = await gate.admit(request, registry, repository || undefined, action);
      const loginServer = requestLoginServer(request, directory.loginServer(registry));
      await route.handler({ registry, repository, segment, loginServer, listings, attributes, caller, request, reply });
    },
  });
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new RegistryError('NAME_INVALID', 'malformed percent-encoding in the path');
  }
}

/** The most specific path shape that matches decides the endpoint; then the method picks its route. */
function match(method: string, path: string): { route: AcrRoute; repository: string; segment: string } {
  const shape = acrRoutes.find((route) => route.pattern.test(path));
  if (!shape) throw new RegistryError('NAME_UNKNOWN', `no endpoint matches ${path}`, { status: 404 });
  const route = acrRoutes.find((candidate) => candidate.pattern === shape.pattern && candidate.method === method);
  if (!route) throw new RegistryError('UNSUPPORTED', `${method} is not supported on this endpoint`, { status: 405 });
  const found = route.pattern.exec(path)!;
  const repository = found[1] === undefined ? '' : decode(found[1]);
  if (repository) assertRepositoryName(repository);
  return { route, repository, segment: found[2] === undefined ? '' : decode(found[2]) };
}

function sendError(error: FastifyError | RegistryError, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof RegistryError) {
    reply.code(error.status).headers(error.headers);
    if (request.method === 'HEAD') return void reply.send();
    return void reply.header('content-type', 'application/json').send(JSON.stringify(error.toJSON()));
  }
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status === 500) request.log.error({ err: error, method: request.method, url: request.routeOptions.url }, 'request failed');
  const body = { errors: [{ code: status === 500 ? 'UNKNOWN' : 'UNSUPPORTED', message: status === 500 ? 'internal server error' : error.message, detail: null }] };
  reply.code(status).header('content-type', 'application/json').send(JSON.stringify(body));
}
