/** `GET /v2/`: the API version check every client starts with. */
import type { RegistryContext } from './context.ts';

export async function checkVersion({ reply }: RegistryContext): Promise<void> {
  reply.header('content-type', 'application/json').send('{}');
}
