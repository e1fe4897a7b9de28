/**
 * A fetch-like request over node:http that, unlike fetch, lets a test set the Host header (to
 * reach another registry) and send raw, unnormalised paths (to probe path traversal).
 */
import http from 'node:http';

export interface RawRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  host?: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

export function rawRequest(baseUrl: string, pathname: string, init: RawRequestInit = {}): Promise<Response> {
  const base = new URL(baseUrl);
  const headers: Record<string, string> = { ...init.headers };
  if (init.host) headers.host = init.host;
  if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: base.hostname, port: base.port, path: pathname, method: init.method ?? 'GET', headers, agent },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (value === undefined) continue;
            for (const item of Array.isArray(value) ? value : [value]) responseHeaders.append(name, item);
          }
          const status = response.statusCode ?? 0;
          const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
          resolve(new Response(body, { status, headers: responseHeaders }));
        });
      },
    );
    request.on('error', reject);
    request.end(init.body);
  });
}
