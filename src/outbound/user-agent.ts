/** The `userAgent` policy: names Berth and its version to the server unless the caller set a `User-Agent`. */
import type { PipelinePolicy } from './pipeline.ts';

export function userAgentPolicy(userAgent: string): PipelinePolicy {
  return {
    name: 'userAgent',
    send(request, next) {
      if (!request.headers.has('user-agent')) request.headers.set('user-agent', userAgent);
      return next(request);
    },
  };
}
