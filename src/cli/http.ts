/**
 * HTTP for the CLI over node:http(s). Unlike fetch it can send a `Host` header (and TLS server
 * name) of a registry's login server while connecting to the server's own address, so
 * `contoso.<domain>` need not resolve on the machine running the CLI.
 */
import http from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';

/** The CLI reads JSON documents only; anything larger is refused rather than buffered. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const TIMEOUT_MS = 120_000;

export interface HttpRequest {
  method: string;
  /** Where to connect: scheme, host and port of the Berth server, and the path to request. */
  url: URL;
  /** `Host` header (and TLS server name), when it differs from `url`'s. */
  host?: string;
  headers?: Record<string, string>;
  body?: string;
  /** PEM certificates to trust instead of the default store. */
  ca?: string[];
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export class HttpConnectError extends Error {}

export function httpRequest(request: HttpRequest): Promise<HttpResponse> {
  const { url } = request;
  const headers: Record<string, string> = { ...request.headers };
  if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
  const options: https.RequestOptions = { ...requestOptions({ ...request, headers }), timeout: TIMEOUT_MS };
  return new Promise((resolve, reject) => {
    const outgoing = (url.protocol === 'https:' ? https : http).request(options, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) {
          response.destroy(new Error(`the response to ${request.method} ${url.pathname} is larger than ${MAX_RESPONSE_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      response.on('error', reject);
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    outgoing.on('error', (error) => reject(new HttpConnectError(describeConnectError(error))));
    outgoing.end(request.body);
  });
}

export interface HttpStreamRequest extends Omit<HttpRequest, 'body'> {
  /** Sent with chunked transfer encoding as it is read (a context archive). */
  body?: NodeJS.ReadableStream;
}

/**
 * A request whose body is streamed and whose response is handed over unread, without an idle
 * timeout: a followed log may stay quiet while a step works. The caller consumes the response.
 */
export function httpStream(request: HttpStreamRequest): Promise<http.IncomingMessage> {
  const options = requestOptions(request);
  return new Promise((resolve, reject) => {
    let answered = false;
    let bodyError: Error | undefined;
    request.body?.once('error', (error: Error) => (bodyError = error));
    const outgoing = (request.url.protocol === 'https:' ? https : http).request(options, (response) => {
      answered = true;
      resolve(response);
    });
    outgoing.on('socket', (socket) => socket.setKeepAlive(true, 30_000));
    // Once the server has answered (say, refused an upload early), a broken upload is no news.
    outgoing.on('error', (error) => {
      if (!answered) reject(bodyError ?? new HttpConnectError(describeConnectError(error)));
    });
    if (request.body) pipeline(request.body, outgoing).catch(() => undefined);
    else outgoing.end();
  });
}

function requestOptions(request: Omit<HttpRequest, 'body'>): https.RequestOptions {
  const { url } = request;
  const secure = url.protocol === 'https:';
  const headers: Record<string, string> = { ...request.headers };
  if (request.host) headers.host = request.host;
  const serverName = request.host ? hostnameOf(request.host) : undefined;
  return {
    method: request.method,
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port || (secure ? 443 : 80),
    path: `${url.pathname}${url.search}`,
    headers,
    ...(secure && serverName && !isIpAddress(serverName) ? { servername: serverName } : {}),
    ...(secure && request.ca ? { ca: request.ca } : {}),
  };
}

const untrustedCertificateCodes = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT']);

function describeConnectError(error: NodeJS.ErrnoException): string {
  if (error.code === 'ECONNREFUSED') return 'connection refused';
  if (error.code === 'ENOTFOUND') return `host not found (${error.message.replace(/^getaddrinfo ENOTFOUND /, '')})`;
  if (untrustedCertificateCodes.has(error.code ?? '')) {
    return `${error.message}; trust the server's CA with --ca-file, 'berth configure --ca-file' or NODE_EXTRA_CA_CERTS`;
  }
  return error.message;
}

/** `contoso.localhost:5000` → `contoso.localhost`; `[::1]:5000` → `::1`. */
export function hostnameOf(host: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed) return bracketed[1]!;
  return host.replace(/:\d+$/, '');
}

function isIpAddress(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.includes(':');
}
