/** The management REST API under `/mgmt/v1/`: JSON in and out, `application/problem+json` errors. */
import type { FastifyError, FastifyInstance } from 'fastify';
import { ProblemError, sendProblem } from './problem.ts';
import { registriesApi, type RegistriesApiOptions } from './registries.ts';

export type ManagementApiOptions = RegistriesApiOptions;

export async function managementApi(app: FastifyInstance, options: ManagementApiOptions): Promise<void> {
  app.setErrorHandler((error: FastifyError | ProblemError, request, reply) => {
    if (error instanceof ProblemError) return sendProblem(reply, error.status, error.title, error.detail);
    if (error.validation) return sendProblem(reply, 400, 'Invalid request', error.message);
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error }, 'management request failed');
    sendProblem(reply, status, status === 500 ? 'Internal server error' : error.message);
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, 404, 'Not found', `no endpoint matches ${request.url}`));
  await app.register(registriesApi, { directory: options.directory, portSuffix: options.portSuffix });
}
