/**
 * The base-image trigger. After each successful build of a task run it records the images the
 * build started FROM, with the digest each tag pointed at. When such a tag moves, the task runs
 * with trigger `Image Update`: at once for registries of this installation (the `base-image-trigger`
 * consumer of the events outbox, woken by each commit), and by polling for external registries.
 *
 * Each move fires a task once: the recorded digest is moved by compare-and-set and only the
 * caller that moved it queues the run, so an event handed over again after a restart, or seen
 * by two nodes, queues nothing twice. An event whose tag has moved on since is skipped (the
 * later event fires for the newer digest). A run queued by this trigger carries the chain of
 * tasks upstream of it; a task already in the chain is not queued again, which ends cycles
 * (task A builds B's base and B builds A's).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { EventStore, StoredEvent } from '../../meta/event-store.ts';
import type { RunRecord, TaskRecord, TaskStore } from '../../meta/task-store.ts';
import type { TaskDependency, TriggerStore, BaseImageDependency } from '../../meta/trigger-store.ts';
import type { RegistryCredentials } from '../../outbound/registry-challenge.ts';
import { OutboxConsumer } from '../../events/outbox-consumer.ts';
import { Wakeup } from '../../events/wakeup.ts';
import type { BuiltDockerfile } from '../engine/run-engine.ts';
import type { SecretVault } from '../secrets/secret-vault.ts';
import { baseImagesOf } from './base-image-dependencies.ts';
import type { BaseImageDigests, DigestLookup, ImageTag } from './base-image-digests.ts';
import { triggersOf } from './trigger-config.ts';
import type { ImageUpdateTriggerDetails, TriggeredRuns } from './triggered-runs.ts';

export const BASE_IMAGE_TRIGGER_CONSUMER = 'base-image-trigger';

/** A task's credential for a login server, in clear (polling external registries with it). */
export type TaskCredentialResolver = (task: TaskRecord, loginServer: string) => Promise<RegistryCredentials | undefined>;

export interface BaseImageTriggerOptions {
  events: EventStore;
  triggers: TriggerStore;
  tasks: Pick<TaskStore, 'getTask' | 'getRun'>;
  runs: Pick<TriggeredRuns, 'queue'>;
  digests: BaseImageDigests;
  /** The installation registry a login server names (`Installation.registryOf`). */
  registryOf(loginServer: string): Promise<string | undefined>;
  /** Default: external registries are read anonymously. */
  credentialsFor?: TaskCredentialResolver;
  logger: Logger;
  /** How often external base images are polled; default 600 s. */
  pollSeconds?: number;
  /** How often the outbox is read for events other nodes committed; default 1000 ms. */
  eventPollMs?: number;
}

/** The user name and password of a task's credential for `loginServer` (not one using the task identity). */
export function taskCredentialResolver(vault: Pick<SecretVault, 'isReference' | 'resolve' | 'unseal'>): TaskCredentialResolver {
  const clear = async (value: string, sealed: boolean) => (vault.isReference(value) ? vault.resolve(value) : sealed ? vault.unseal(value) : value);
  return async (task, loginServer) => {
    const credential = task.credentials.find((candidate) => candidate.loginServer.toLowerCase() === loginServer.toLowerCase() && !candidate.useIdentity);
    if (!credential || credential.username === null || credential.password === null) return undefined;
    return { username: await clear(credential.username, false), password: await clear(credential.password, true) };
  };
}

const imageName = (image: ImageTag) => `${image.loginServer}/${image.repository}:${image.tag}`;
const taskKey = (registry: string, task: string) => `${registry}/${task}`;

export class BaseImageTrigger {
  readonly #options: BaseImageTriggerOptions;
  readonly #consumer: OutboxConsumer;
  readonly #wakeup = new Wakeup();
  /** Per task, the run last recorded and what its builds so far used (a run may build several Dockerfiles). */
  readonly #recorded = new Map<string, { runId: string; dependencies: BaseImageDependency[] }>();
  /** External images found unavailable at the last poll (logged once until they return). */
  readonly #unavailable = new Set<string>();
  #polling: Promise<void> | undefined;
  #stopping = false;

  constructor(options: BaseImageTriggerOptions) {
    this.#options = options;
    this.#consumer = new OutboxConsumer(
      options.events,
      { name: BASE_IMAGE_TRIGGER_CONSUMER, batchSize: 100, pollMs: options.eventPollMs ?? 1000, logger: options.logger },
      (events) => this.handleEvents(events),
    );
  }

  start(): void {
    if (this.#polling) return;
    this.#stopping = false;
    this.#consumer.start();
    this.#polling = this.#pollLoop();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wakeup.wake();
    await this.#consumer.stop();
    await this.#polling;
    this.#polling = undefined;
  }

  /** Records the base images of a task run's successful build (the run engine's `onBuilt`). */
  async recordBuild(run: RunRecord, build: BuiltDockerfile): Promise<void> {
    if (run.task === null) return;
    const task = await this.#options.tasks.getTask(run.registry, run.task);
    if (!task) return;
    const images = baseImagesOf(build.dockerfileText, build);
    const found = await Promise.all(
      images.map(async (image): Promise<BaseImageDependency> => {
        const registry = (await this.#options.registryOf(image.loginServer)) ?? null;
        const credentials = registry === null ? await this.#credentials(task, image.loginServer) : undefined;
        const lookup = await this.#options.digests.lookup(image, registry, credentials);
        return { ...image, registry, digest: 'digest' in lookup ? lookup.digest : null };
      }),
    );
    const key = taskKey(run.registry, run.task);
    const previous = this.#recorded.get(key);
    const dependencies = previous?.runId === run.runId ? merged(previous.dependencies, found) : found;
    this.#recorded.set(key, { runId: run.runId, dependencies });
    await this.#options.triggers.replaceBaseImageDependencies(run.registry, run.task, dependencies);
  }

  /** The outbox consumer's handler: each pushed tag that tasks build FROM fires them. */
  async handleEvents(events: StoredEvent[]): Promise<void> {
    const { triggers, digests } = this.#options;
    for (const event of events) {
      if (event.action !== 'push') continue;
      for (const tag of event.tags) {
        const dependents = await triggers.dependentsOf(event.registry, event.repository, tag);
        if (dependents.length === 0) continue;
        const current = await digests.lookup({ loginServer: '', repository: event.repository, tag }, event.registry);
        if (!('digest' in current) || current.digest !== event.digest) continue;
        const chain = await this.#chainOf(event);
        for (const dependent of dependents) await this.#fire(dependent, event.digest, { id: event.id, timestamp: event.createdAt, chain });
      }
    }
  }

  /** One poll of every external base image. */
  async pollExternal(): Promise<void> {
    const { triggers, tasks, digests, logger } = this.#options;
    const lookups = new Map<string, Promise<DigestLookup>>();
    const unavailable = new Map<string, string>();
    for (const dependent of await triggers.externalDependencies()) {
      const { dependency } = dependent;
      const task = await tasks.getTask(dependent.registry, dependent.task);
      if (!task) continue;
      const credentials = await this.#credentials(task, dependency.loginServer);
      const image = imageName(dependency);
      const key = `${image}\n${credentials?.username ?? ''}`;
      let lookup = lookups.get(key);
      if (!lookup) lookups.set(key, (lookup = digests.lookup(dependency, null, credentials)));
      const found = await lookup;
      if (!('digest' in found)) {
        unavailable.set(image, found.unavailable);
        continue;
      }
      if (dependency.digest === null) {
        // First sighting of an image the build could not read: the digest in use now, no run.
        await triggers.advanceBaseImageDigest(dependent.registry, dependent.task, dependency, null, found.digest);
        continue;
      }
      await this.#fire(dependent, found.digest, { id: randomUUID(), timestamp: new Date().toISOString(), chain: [] }, task);
    }
    // An upstream that disappears runs nothing; it is logged when it goes and when it comes back.
    for (const [image, reason] of unavailable) {
      if (!this.#unavailable.has(image)) logger.warn({ image, reason }, `base image ${image} is unavailable (${reason}); polling on`);
    }
    for (const image of this.#unavailable) {
      if (!unavailable.has(image)) logger.info({ image }, `base image ${image} is available again`);
    }
    this.#unavailable.clear();
    for (const image of unavailable.keys()) this.#unavailable.add(image);
  }

  async #pollLoop(): Promise<void> {
    const intervalMs = (this.#options.pollSeconds ?? 600) * 1000;
    while (!this.#stopping) {
      await this.#wakeup.sleep(intervalMs);
      if (this.#stopping) break;
      try {
        await this.pollExternal();
      } catch (error) {
        this.#options.logger.error({ err: error }, 'polling external base images failed');
      }
    }
  }

  /** Queues the dependent task for `digest` unless its trigger is off, it is in the chain, or another caller got there first. */
  async #fire(dependent: TaskDependency, digest: string, trigger: Omit<ImageUpdateTriggerDetails, 'images'>, known?: TaskRecord): Promise<void> {
    const { triggers, tasks, runs, logger } = this.#options;
    const { registry, task: name, dependency } = dependent;
    if (dependency.digest === digest) return;
    const task = known ?? (await tasks.getTask(registry, name));
    if (!task || task.status === 'Disabled') return;
    const config = triggersOf(task).baseImage;
    if (!config.enabled || (config.type === 'Runtime' && dependency.type !== 'Runtime')) return;
    const self = taskKey(registry, name);
    const image = imageName(dependency);
    if (trigger.chain.includes(self)) {
      logger.warn({ registry, task: name, image, chain: trigger.chain }, `base-image trigger cycle: ${[...trigger.chain, self].join(' -> ')}; task ${self} is not run again for ${image}`);
      return;
    }
    if (!(await triggers.advanceBaseImageDigest(registry, name, dependency, dependency.digest, digest))) return;
    const images = [{ loginServer: dependency.loginServer, repository: dependency.repository, tag: dependency.tag, digest }];
    try {
      const run = await runs.queue(registry, name, { trigger: 'Image Update', details: { ...trigger, images } });
      if (run) logger.info({ registry, task: name, runId: run.runId, image, digest }, `base image ${image} moved; queued run ${run.runId} of task ${self}`);
    } catch (error) {
      logger.error({ err: error, registry, task: name, image }, `base image ${image} moved, but queueing a run of task ${self} failed`);
    }
  }

  /** The tasks upstream of the run that made the change, ending with that run's own task. */
  async #chainOf(event: StoredEvent): Promise<string[]> {
    const origin = event.origin?.run;
    if (!origin) return [];
    const run = await this.#options.tasks.getRun(origin.registry, origin.runId);
    if (!run || run.task === null) return [];
    const details = run.triggerDetails as Partial<ImageUpdateTriggerDetails> | null;
    const upstream = run.trigger === 'Image Update' && Array.isArray(details?.chain) ? details.chain.filter((entry) => typeof entry === 'string') : [];
    return [...upstream, taskKey(run.registry, run.task)];
  }

  async #credentials(task: TaskRecord, loginServer: string): Promise<RegistryCredentials | undefined> {
    return this.#options.credentialsFor ? this.#options.credentialsFor(task, loginServer) : undefined;
  }
}

/** The dependencies of two builds of one run; an image that is the runtime base of either stays `Runtime`. */
function merged(earlier: BaseImageDependency[], later: BaseImageDependency[]): BaseImageDependency[] {
  const byImage = new Map(earlier.map((dependency) => [imageName(dependency), dependency]));
  for (const dependency of later) {
    const known = byImage.get(imageName(dependency));
    byImage.set(imageName(dependency), known?.type === 'Runtime' ? { ...dependency, type: 'Runtime' } : dependency);
  }
  return [...byImage.values()];
}
