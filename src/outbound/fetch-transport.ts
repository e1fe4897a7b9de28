/** The network end of outbound pipelines: Node's `fetch` (undici), with errors mapped to `OutboundError`. */
import { OutboundError, type HttpTransport, type OutboundRequest } from './pipeline.ts';

export const fetchTransport: HttpTransport = async (request) => {
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: (request.body ?? undefined) as BodyInit | undefined,
      signal: request.signal ?? null,
      // Required by fetch for a streamed request body; harmless otherwise.
      duplex: 'half',
    } as RequestInit & { duplex: 'half' });
  } catch (error) {
    throw outboundErrorOf(error, request);
  }
  return { status: response.status, statusText: response.statusText, headers: response.headers, body: response.body, request };
};

function outboundErrorOf(error: unknown, request: OutboundRequest): OutboundError {
  if (error instanceof OutboundError) return error;
  const reason = request.signal?.aborted ? request.signal.reason : undefined;
  if (reason instanceof OutboundError) return reason;
  if (request.signal?.aborted) return new OutboundError('aborted', `${request.method} ${request.url} was cancelled`, { cause: error });
  // fetch reports every network failure as "fetch failed"; the cause says what happened.
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (error as Error).message;
  return new OutboundError('network', `${request.method} ${new URL(request.url).origin}: ${detail}`, { cause: error });
}
