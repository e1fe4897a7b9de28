/**
 * Whether a source host is one of this installation's own login servers, so that an import from
 * it is a copy inside the installation (links, no bytes over HTTP, no DNS needed):
 * `<registry>.<domain>:<port>` names that registry; the bare domain, `localhost` or the listening
 * address with this server's port name the default registry.
 */
import type { RegistryDirectory } from '../services/registry-directory.ts';
import { hostnameOf } from './source-reference.ts';

export function installationRegistryResolver(directory: RegistryDirectory, portSuffix: () => string, listenHost: string): (host: string) => Promise<string | undefined> {
  return async (host) => {
    const lowered = host.toLowerCase();
    const suffix = portSuffix();
    const port = /:(\d+)$/.exec(lowered)?.[0] ?? '';
    if (port !== suffix) return undefined;
    const name = hostnameOf(lowered);
    const domain = directory.domain.toLowerCase();
    if (name === domain || name === 'localhost' || name === '127.0.0.1' || name === listenHost.toLowerCase()) return directory.defaultRegistry;
    if (!name.endsWith(`.${domain}`)) return undefined;
    const registry = name.slice(0, -domain.length - 1);
    return !registry.includes('.') && (await directory.get(registry)) ? registry : undefined;
  };
}
