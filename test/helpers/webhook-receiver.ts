/**
 * A local HTTP endpoint for webhook tests: records every request it gets (path, headers, JSON
 * body) and answers as told — 200, 500, or never (a hanging endpoint).
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export type ReceiverMode = 'ok' | 'fail' | 'hang';

export interface ReceivedRequest {
  path: string;
  method: string;
  headers: IncomingHttpHeaders;
  body: Record<string, any>;
  /** How the receiver answered it. */
  answered: ReceiverMode;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>`; any path is accepted. */
  url: string;
  received: ReceivedRequest[];
  /** How to answer from now on, for every path or for one path. */
  setMode(mode: ReceiverMode, path?: string): void;
  /** The requests to `path` (all paths if omitted) once `enough` holds; fails after `timeoutMs`. */
  waitFor(enough: (requests: ReceivedRequest[]) => boolean, options?: { path?: string; timeoutMs?: number }): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedRequest[] = [];
  const modes = new Map<string, ReceiverMode>();
  let defaultMode: ReceiverMode = 'ok';
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      const mode = modes.get(path) ?? defaultMode;
      const text = Buffer.concat(chunks).toString('utf8');
      received.push({ path, method: request.method ?? '', headers: request.headers, body: text ? (JSON.parse(text) as Record<string, any>) : {}, answered: mode });
      if (mode === 'hang') return;
      if (mode === 'fail') return void response.writeHead(500, { 'content-type': 'text/plain' }).end('receiver is down');
      response.writeHead(200, { 'content-type': 'application/json', 'x-receiver': 'test' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    received,
    setMode(mode, path) {
      if (path === undefined) {
        defaultMode = mode;
        modes.clear();
      } else {
        modes.set(path, mode);
      }
    },
    async waitFor(enough, { path, timeoutMs = 15_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matching = received.filter((request) => path === undefined || request.path === path);
        if (enough(matching)) return matching;
        if (Date.now() > deadline) throw new Error(`the webhook receiver did not get what was expected within ${timeoutMs} ms; it got:\n${JSON.stringify(matching, null, 2)}`);
        await sleep(25);
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
