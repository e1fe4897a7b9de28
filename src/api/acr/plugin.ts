/**
 * ACR's data-plane listings under `/acr/v1/` as a Fastify plugin: one catch-all GET route
 * dispatches on the route table; callers pass the same gate as on `/v2/`; errors are OCI error JSON.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from '../../oci/errors.ts';
import { assertRepositoryName } from '../../oci/names.ts';
import type { DataPlaneGate } from '../../oauth/gate.ts';
import { requestLoginServer } from '../../oauth/login-server.ts';
import type { ListingService } from '../../services/listings.ts';
import type { RegistryDirectory } from '../../services/registry-directory.ts';
import { acrRoutes, type AcrRoute } from './routes.ts';

export interface AcrApiOptions {
  directory: RegistryDirectory;
  listings: ListingService;
  gate: DataPlaneGate;
}

export async function acrApi(app: FastifyInstance, { directory, listings, gate }: AcrApiOptions): Promise<void> {
  app.setErrorHandler((error: FastifyError, request, reply) => sendError(error, request, reply));

  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/acr/v1/*',
    exposeHeadRoute: false,
    // Documented per endpoint from the route table instead.
    schema: { hide: true },
    handler: async (request, reply) => {
      const path = request.url.split('?', 1)[0]!;
      const { route, repository } = match(path);
      if (request.method !== 'GET') throw new RegistryError('UNSUPPORTED', `${request.method} is not supported on this endpoint`);
      const registry = await directory.resolveHost(request.headers.host);
      await gate.admit(request, registry, repository || undefined, route.action);
      const loginServer = requestLoginServer(request, directory.loginServer(registry));
      await route.handler({ registry, repository, loginServer, listings, request, reply });
    },
  });
}

function match(path: string): { route: AcrRoute; repository: string } {
  for (const route of acrRoutes) {
    const found = route.pattern.exec(path);
    if (!found) continue;
    let repository = '';
    if (found[1] !== undefined) {
      try {
        repository = decodeURIComponent(found[1]);
      } catch {
        throw new RegistryError('NAME_INVALID', 'malformed percent-encoding in the path');
      }
      assertRepositoryName(repository);
    }
    return { route, repository };
  }
  throw new RegistryError('NAME_UNKNOWN', `no endpoint matches ${path}`, { status: 404 });
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
