/** `application/problem+json` (RFC 9457) errors for the management API. */
import type { FastifyReply } from 'fastify';

export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
  ) {
    super(detail ?? title);
    this.name = 'ProblemError';
  }
}

export function sendProblem(reply: FastifyReply, status: number, title: string, detail?: string): void {
  reply
    .code(status)
    .header('content-type', 'application/problem+json')
    .send(JSON.stringify({ type: 'about:blank', title, status, ...(detail ? { detail } : {}) }));
}
