/**
 * Watches each mirror's upstream tag and sends each new digest through the gate. A source in this
 * installation is watched through the events outbox (the durable `mirror` consumer, woken by each
 * commit); an external one is polled (its cron schedule, else its poll interval, else the
 * server's default).
 *
 * Whatever tells it — an event, a poll, the start — a check reads the tag's digest now and, if it
 * differs from the last one handled, claims it by compare-and-set with a new history entry. Only
 * the claimant passes it through the gate, so an event handed over again after a restart, a
 * second node, or an unrelated push changes nothing. A digest that failed is not tried again
 * while upstream stays on it; if upstream later comes back to it after another digest, that is a
 * change like any other and it is validated again. Checks of one mirror take turns; a check
 * asked for while one waits already is not queued twice.
 */
import type { Logger } from 'pino';
import { OutboxConsumer } from '../events/outbox-consumer.ts';
import { Wakeup } from '../events/wakeup.ts';
import type { EventStore, StoredEvent } from '../meta/event-store.ts';
import type { RegistryCredentials } from '../outbound/registry-challenge.ts';
import type { SecretVault } from '../tasks/secrets/secret-vault.ts';
import type { DigestLookup, ImageTag } from '../tasks/triggers/base-image-digests.ts';
import { parseSchedule } from '../tasks/triggers/cron.ts';
import { KeyedQueue } from './keyed-queue.ts';
import { GateStopped, type MirrorGate } from './mirror-gate.ts';
import type { MirrorHistoryEntry, MirrorRecord, MirrorStore } from './mirror-store.ts';

export const MIRROR_CONSUMER = 'mirror';

export interface MirrorWatcherOptions {
  store: MirrorStore;
  events: EventStore;
  gate: MirrorGate;
  /** The tag's digest now: from the metadata store for `registry`, by a manifest request when it is null. */
  digests: { lookup(image: ImageTag, registry: string | null, credentials?: RegistryCredentials): Promise<DigestLookup> };
  vault: Pick<SecretVault, 'isReference' | 'resolve' | 'unseal'>;
  logger: Logger;
  /** Seconds between polls of an external source that has neither a schedule nor its own interval; default 600. */
  defaultPollSeconds?: number;
  /** How often the outbox is read for events other nodes committed; default 1000 ms. */
  eventPollMs?: number;
  /** How often due polls are looked for; default 1000 ms. */
  tickMs?: number;
}

const keyOf = (mirror: { registry: string; name: string }) => `${mirror.registry}/${mirror.name}`;

export class MirrorWatcher {
  readonly #options: MirrorWatcherOptions;
  readonly #consumer: OutboxConsumer;
  readonly #checks = new KeyedQueue();
  /** Mirrors with a check queued that has not started yet. */
  readonly #queued = new Set<string>();
  /** When each external mirror is polled next (epoch ms). */
  readonly #nextPoll = new Map<string, number>();
  /** Mirrors whose upstream was unavailable at the last check (logged once until it returns). */
  readonly #unavailable = new Set<string>();
  readonly #wakeup = new Wakeup();
  #stop = new AbortController();
  #polling: Promise<void> | undefined;

  constructor(options: MirrorWatcherOptions) {
    this.#options = options;
    this.#consumer = new OutboxConsumer(
      options.events,
      { name: MIRROR_CONSUMER, batchSize: 100, pollMs: options.eventPollMs ?? 1000, logger: options.logger },
      (events) => this.handleEvents(events),
    );
  }

  /** Resumes work a stop cut short, checks every mirror once, then follows events and polls. */
  start(): void {
    if (this.#polling) return;
    this.#stop = new AbortController();
    this.#polling = this.#pollLoop();
    void this.#resume().catch((error: unknown) => this.#options.logger.error({ err: error }, 'resuming mirror work failed'));
    this.#consumer.start();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.#wakeup.wake();
    await this.#consumer.stop();
    await this.#polling;
    this.#polling = undefined;
    await this.#checks.idle();
  }

  /** Asks for a check of the mirror soon (after creation, or when told of a change). */
  check(mirror: { registry: string; name: string }): void {
    const key = keyOf(mirror);
    if (this.#queued.has(key) || this.#stop.signal.aborted) return;
    this.#queued.add(key);
    void this.#checks.run(key, async () => {
      this.#queued.delete(key);
      await this.#check(mirror.registry, mirror.name);
    });
  }

  /** The outbox consumer's handler: a push of a watched tag asks for a check of its mirrors. */
  async handleEvents(events: StoredEvent[]): Promise<void> {
    for (const event of events) {
      if (event.action !== 'push') continue;
      for (const tag of event.tags) {
        for (const mirror of await this.#options.store.mirrorsOfSource(event.registry, event.repository, tag)) this.check(mirror);
      }
    }
  }

  async #check(registry: string, name: string): Promise<void> {
    const { store, digests, logger } = this.#options;
    try {
      const mirror = await store.getMirror(registry, name);
      if (!mirror || this.#stop.signal.aborted) return;
      const { source } = mirror;
      const credentials = await this.#credentials(mirror);
      const found = await digests.lookup({ loginServer: source.host ?? '', repository: source.repository, tag: source.tag }, source.registry, credentials);
      const key = keyOf(mirror);
      if (!('digest' in found)) {
        if (!this.#unavailable.has(key)) logger.warn({ registry, mirror: name, reason: found.unavailable }, `mirror ${key}: the upstream tag is unavailable (${found.unavailable}); watching on`);
        this.#unavailable.add(key);
        return;
      }
      if (this.#unavailable.delete(key)) logger.info({ registry, mirror: name }, `mirror ${key}: the upstream tag is available again`);
      if (found.digest === mirror.lastSourceDigest) return;
      const entry = await store.claimDigest(registry, name, mirror.lastSourceDigest, found.digest);
      if (!entry) return;
      logger.info({ registry, mirror: name, digest: found.digest }, `mirror ${key}: upstream moved to ${found.digest}`);
      await this.#pass(mirror, entry, credentials);
    } catch (error) {
      logger.error({ err: error, registry, mirror: name }, 'checking a mirror failed');
    }
  }

  async #pass(mirror: MirrorRecord, entry: MirrorHistoryEntry, credentials: RegistryCredentials | undefined): Promise<void> {
    try {
      await this.#options.gate.pass(mirror, entry, credentials, this.#stop.signal);
    } catch (error) {
      if (!(error instanceof GateStopped)) throw error;
    }
  }

  /** Entries a stop left Staged or Validating go on from there, the newest of each mirror only. */
  async #resume(): Promise<void> {
    const { store } = this.#options;
    const newest = new Map<string, MirrorHistoryEntry>();
    for (const entry of await store.unfinishedEntries()) {
      const key = `${entry.registry}/${entry.mirror}`;
      const older = newest.get(key);
      if (older) await store.updateEntry(older.id, { status: 'Failed', message: `superseded by ${entry.digest} before it was validated` });
      newest.set(key, entry);
    }
    for (const entry of newest.values()) {
      void this.#checks.run(`${entry.registry}/${entry.mirror}`, async () => {
        const mirror = await store.getMirror(entry.registry, entry.mirror);
        if (mirror) await this.#pass(mirror, entry, await this.#credentials(mirror));
      });
    }
    for (const mirror of await store.allMirrors()) this.check(mirror);
  }

  async #pollLoop(): Promise<void> {
    const { store, logger } = this.#options;
    while (!this.#stop.signal.aborted) {
      try {
        const now = Date.now();
        const external = (await store.allMirrors()).filter((mirror) => mirror.source.registry === null);
        const keys = new Set(external.map(keyOf));
        for (const key of this.#nextPoll.keys()) if (!keys.has(key)) this.#nextPoll.delete(key);
        for (const mirror of external) {
          const key = keyOf(mirror);
          const due = this.#nextPoll.get(key);
          if (due === undefined) {
            // The start's check (or the creation's) polls it first.
            this.#nextPoll.set(key, this.#following(mirror, now));
          } else if (due <= now) {
            this.#nextPoll.set(key, this.#following(mirror, now));
            this.check(mirror);
          }
        }
      } catch (error) {
        logger.error({ err: error }, 'polling mirror sources failed');
      }
      await this.#wakeup.sleep(this.#options.tickMs ?? 1000);
    }
  }

  /** When the mirror is polled after `now`. */
  #following(mirror: MirrorRecord, now: number): number {
    if (mirror.schedule !== null) {
      const next = parseSchedule(mirror.schedule).next(new Date(now));
      if (next !== null) return next.getTime();
    }
    return now + (mirror.pollIntervalSeconds ?? this.#options.defaultPollSeconds ?? 600) * 1000;
  }

  /** The external source's user name and password in clear, if the mirror has them. */
  async #credentials(mirror: MirrorRecord): Promise<RegistryCredentials | undefined> {
    const { vault } = this.#options;
    if (mirror.sourceUsername === null || mirror.sourcePassword === null) return undefined;
    const username = vault.isReference(mirror.sourceUsername) ? await vault.resolve(mirror.sourceUsername) : mirror.sourceUsername;
    const password = vault.isReference(mirror.sourcePassword) ? await vault.resolve(mirror.sourcePassword) : vault.unseal(mirror.sourcePassword);
    return { username, password };
  }
}
