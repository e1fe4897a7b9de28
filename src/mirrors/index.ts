/**
 * Mirrors for the composition root: the service behind `berth mirror`, and the watcher that
 * sends each new upstream digest through the gate (start it once the server listens, so
 * validation runs can reach the registries; stop it before the import service closes, so a stop
 * leaves work to resume rather than failures).
 */
import type { Logger } from 'pino';
import type { ImportService } from '../import/import-service.ts';
import type { MetaStore } from '../meta/meta-store.ts';
import { OutboundPipeline } from '../outbound/pipeline.ts';
import { requestIdPolicy } from '../outbound/request-id.ts';
import { retryPolicy } from '../outbound/retry.ts';
import { timeoutPolicy } from '../outbound/timeout.ts';
import { userAgentPolicy } from '../outbound/user-agent.ts';
import type { ManifestService } from '../services/manifests.ts';
import type { SecretVault } from '../tasks/secrets/secret-vault.ts';
import type { TaskService } from '../tasks/task-service.ts';
import { BaseImageDigests } from '../tasks/triggers/base-image-digests.ts';
import { MirrorGate } from './mirror-gate.ts';
import { MirrorService } from './mirror-service.ts';
import { MirrorTarget } from './mirror-target.ts';
import { MirrorWatcher } from './mirror-watcher.ts';

export interface MirrorsOptions {
  meta: MetaStore;
  imports: ImportService;
  manifests: ManifestService;
  tasks: Pick<TaskService, 'quickRun' | 'getRun'>;
  vault: SecretVault;
  /** `host[:port]` of a registry of this installation. */
  loginServer(registry: string): string;
  /** The installation registry a login server names, if any. */
  registryOfHost(host: string): Promise<string | undefined>;
  registryExists(registry: string): Promise<boolean>;
  /** Hosts reached over plain http besides loopback ones (`import.insecureRegistries`). */
  insecureRegistries?: readonly string[];
  logger: Logger;
  /** Seconds between polls of external sources without their own schedule or interval; default 600. */
  pollSeconds?: number;
  /** How often the outbox is read for other nodes' events; default 1000 ms. */
  eventPollMs?: number;
}

export interface Mirrors {
  service: MirrorService;
  watcher: MirrorWatcher;
  start(): void;
  stop(): Promise<void>;
}

export function createMirrors(options: MirrorsOptions): Mirrors {
  const { meta, loginServer, logger } = options;
  const defaultPollSeconds = options.pollSeconds ?? 600;
  const target = new MirrorTarget({ store: meta.mirrors, meta, imports: options.imports, manifests: options.manifests, loginServer });
  const gate = new MirrorGate({ store: meta.mirrors, target, runs: options.tasks, loginServer });
  const digests = new BaseImageDigests({
    manifests: meta,
    ...(options.insecureRegistries && { insecureRegistries: options.insecureRegistries }),
    pipeline: new OutboundPipeline([
      requestIdPolicy(),
      userAgentPolicy('Berth (mirror)'),
      retryPolicy({ maxRetries: 1, baseDelayMs: 250, maxDelayMs: 2000 }),
      timeoutPolicy(10_000),
    ]),
  });
  const watcher = new MirrorWatcher({
    store: meta.mirrors,
    events: meta.events,
    gate,
    digests,
    vault: options.vault,
    logger,
    defaultPollSeconds,
    ...(options.eventPollMs !== undefined && { eventPollMs: options.eventPollMs }),
  });
  const service = new MirrorService({
    store: meta.mirrors,
    target,
    watcher,
    resolution: { registryOfHost: options.registryOfHost, registryExists: options.registryExists },
    vault: options.vault,
    loginServer,
    defaultPollSeconds,
  });
  return {
    service,
    watcher,
    start: () => watcher.start(),
    stop: () => watcher.stop(),
  };
}
