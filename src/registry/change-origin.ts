/** The request behind a change, as the change's event records it (ACR's `request` and the actor). */
import { randomUUID } from 'node:crypto';
import { principalName } from '../auth/principal.ts';
import type { ChangeOrigin } from '../meta/event-store.ts';
import type { RegistryContext } from './context.ts';

export function changeOrigin({ request, caller }: RegistryContext): ChangeOrigin {
  return {
    requestId: randomUUID(),
    host: request.headers.host ?? '',
    method: request.method,
    userAgent: request.headers['user-agent'] ?? '',
    address: request.ip,
    actor: principalName(caller.principal),
  };
}
