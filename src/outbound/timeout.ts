/**
 * The `timeout` policy: an attempt that has no response headers within the limit is aborted
 * with an `OutboundError` of kind `timeout`. Placed after `retry`, each attempt gets its own
 * limit. Reading the body is bounded by the request's own signal, not by this policy, so a large
 * download is not cut off while it flows.
 */
import { OutboundError, type PipelinePolicy } from './pipeline.ts';

export function timeoutPolicy(headersTimeoutMs: number): PipelinePolicy {
  return {
    name: 'timeout',
    async send(request, next) {
      const timeout = new AbortController();
      const signal = request.signal ? AbortSignal.any([request.signal, timeout.signal]) : timeout.signal;
      const timer = setTimeout(() => {
        timeout.abort(new OutboundError('timeout', `${request.method} ${new URL(request.url).origin}: no response within ${headersTimeoutMs} ms`));
      }, headersTimeoutMs);
      try {
        return await next({ ...request, signal });
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
