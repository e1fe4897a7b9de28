/**
 * The registries of the installation and how a request's `Host` maps onto one of them:
 * `<registry>.<domain>[:port]` names a registry, any other host gets the default registry.
 * Registry records are cached in memory; they change rarely and are looked up on every request.
 */
import { validRegistryName } from '../oci/names.ts';
import { RegistryError } from '../oci/errors.ts';
import type { MetaStore, RegistryRecord } from '../meta/meta-store.ts';

export class RegistryNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryNameError';
  }
}

export class RegistryNotFoundError extends Error {
  constructor(readonly registry: string) {
    super(`registry ${registry} not found`);
    this.name = 'RegistryNotFoundError';
  }
}

export interface RegistryDirectoryOptions {
  domain: string;
  defaultRegistry: string;
}

export class RegistryDirectory {
  private readonly cache = new Map<string, RegistryRecord>();
  private readonly suffix: string;
  private readonly listeners: ((names: string[]) => Promise<unknown>)[] = [];

  constructor(
    private readonly meta: MetaStore,
    private readonly options: RegistryDirectoryOptions,
  ) {
    this.suffix = `.${options.domain.toLowerCase()}`;
  }

  get domain(): string {
    return this.options.domain;
  }

  get defaultRegistry(): string {
    return this.options.defaultRegistry;
  }

  /** Creates the default registry if it does not exist yet and warms the cache. */
  async initialise(): Promise<void> {
    if (!(await this.meta.getRegistry(this.options.defaultRegistry))) {
      await this.meta.createRegistry(this.options.defaultRegistry);
    }
    for (const record of await this.meta.listRegistries()) this.cache.set(record.name, record);
  }

  /** The login server of a registry: `<name>.<domain>`, or the bare domain for the default registry. */
  loginServer(name: string): string {
    return name === this.options.defaultRegistry ? this.options.domain : `${name}${this.suffix}`;
  }

  /** Every registry's login server, e.g. for certificate names. */
  loginServers(): string[] {
    return [...this.cache.keys()].map((name) => `${name}${this.suffix}`);
  }

  /** Awaited with every registry name whenever a registry is created or deleted. */
  onChange(listener: (names: string[]) => Promise<unknown>): void {
    this.listeners.push(listener);
  }

  /**
   * The registry a request addresses. `<name>.<domain>` must be an existing registry; any other
   * host (`localhost:5000`, `127.0.0.1:5000`, the bare domain) reaches the default registry.
   */
  async resolveHost(hostHeader: string | undefined): Promise<string> {
    const host = stripPort(hostHeader ?? '').toLowerCase();
    if (!host.endsWith(this.suffix)) return this.options.defaultRegistry;
    const name = host.slice(0, -this.suffix.length);
    if (name.includes('.')) return this.options.defaultRegistry;
    if (this.cache.has(name)) return name;
    const record = await this.meta.getRegistry(name);
    if (!record) throw new RegistryError('NAME_UNKNOWN', `registry ${name} is not known to this server`);
    this.cache.set(name, record);
    return name;
  }

  async create(name: string): Promise<RegistryRecord> {
    const problem = validRegistryName(name);
    if (problem) throw new RegistryNameError(problem);
    const record = await this.meta.createRegistry(name);
    this.cache.set(name, record);
    await this.notify();
    return record;
  }

  async get(name: string): Promise<RegistryRecord | undefined> {
    return this.cache.get(name) ?? (await this.meta.getRegistry(name));
  }

  async list(): Promise<RegistryRecord[]> {
    return this.meta.listRegistries();
  }

  async delete(name: string): Promise<boolean> {
    if (name === this.options.defaultRegistry) {
      throw new RegistryNameError(`the default registry ${name} cannot be deleted`);
    }
    const deleted = await this.meta.deleteRegistry(name);
    this.cache.delete(name);
    if (deleted) await this.notify();
    return deleted;
  }

  private async notify(): Promise<void> {
    const names = [...this.cache.keys()];
    for (const listener of this.listeners) await listener(names);
  }
}

function stripPort(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}
