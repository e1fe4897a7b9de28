/**
 * The outbound pipeline of imports: request id, user agent, retries of transient failures, and a
 * limit on waiting for response headers. Each import adds its own `registryAuth` policy (with the
 * source credentials) just before `timeout`, so token requests are bounded and retried too.
 */
import { OutboundPipeline, type HttpTransport } from '../outbound/pipeline.ts';
import { requestIdPolicy } from '../outbound/request-id.ts';
import { retryPolicy } from '../outbound/retry.ts';
import { timeoutPolicy } from '../outbound/timeout.ts';
import { userAgentPolicy } from '../outbound/user-agent.ts';

export interface ImportPipelineOptions {
  version: string;
  /** Time allowed for a source to start answering one request. */
  headersTimeoutMs?: number;
  transport?: HttpTransport;
}

export function importPipeline({ version, headersTimeoutMs = 30_000, transport }: ImportPipelineOptions): OutboundPipeline {
  return new OutboundPipeline(
    [
      requestIdPolicy(),
      userAgentPolicy(`Berth/${version} (import)`),
      retryPolicy({ maxRetries: 2, baseDelayMs: 250, maxDelayMs: 5_000 }),
      timeoutPolicy(headersTimeoutMs),
    ],
    transport,
  );
}
