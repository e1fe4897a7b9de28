/** The `requestId` policy: every request carries an `X-Request-Id` (kept if the caller set one), for tracing on both sides. */
import { randomUUID } from 'node:crypto';
import type { PipelinePolicy } from './pipeline.ts';

export const REQUEST_ID_HEADER = 'x-request-id';

export function requestIdPolicy(): PipelinePolicy {
  return {
    name: 'requestId',
    send(request, next) {
      if (!request.headers.has(REQUEST_ID_HEADER)) request.headers.set(REQUEST_ID_HEADER, randomUUID());
      return next(request);
    },
  };
}
