/** The request behind a change, as the change's event records it (ACR's `request` and the actor). */
import { randomUUID } from 'node:crypto';
import { principalName, type Principal } from '../auth/principal.ts';
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
    ...runOrigin(caller.principal),
  };
}

/** The task run behind a run credential, so a change it makes can be traced to the run. */
export function runOrigin(principal: Principal): Pick<ChangeOrigin, 'run'> {
  return principal.kind === 'taskRun' ? { run: { registry: principal.registry, runId: principal.runId } } : {};
}
