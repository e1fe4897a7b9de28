/**
 * The events outbox: every change to a registry's content is recorded as an event in the same
 * transaction as the change, with a sequence number that only grows. Consumers (webhooks now;
 * triggers, replication and audit later) each keep a durable cursor — the last sequence they
 * processed — and read on from it, so each gets every event at least once, across restarts.
 *
 * Ordering guarantee: an event becomes visible to readers only after every event with a lower
 * sequence is visible (SQLite serialises writers; on PostgreSQL the sequence is taken under a
 * transaction-scoped lock held until commit). A consumer can therefore keep one number as its
 * cursor and never miss an event that commits late.
 */

/**
 * What changed. `untag`: a tag was deleted alone (its manifest stays). `quarantine`: a push while
 * the quarantine policy is on (its `push` is recorded when it is released).
 */
export type ChangeAction = 'push' | 'delete' | 'untag' | 'quarantine';

/** The request that made a change, for the events' `request` and audit. */
export interface ChangeOrigin {
  /** A uuid for the request. */
  requestId: string;
  /** The `Host` the client addressed (the registry's login server). */
  host: string;
  method: string;
  userAgent: string;
  /** The client's address. */
  address?: string;
  /** Who made the change: the principal's user name, app id or token name. */
  actor?: string;
  /** The task run whose credential made the change (base-image trigger chains). */
  run?: { registry: string; runId: string };
}

/** A change as the metadata store records it with the change. */
export interface NewChange {
  action: ChangeAction;
  registry: string;
  repository: string;
  digest: string;
  mediaType: string | null;
  size: number | null;
  /** push: the tags applied; delete: the tags removed with the manifest; untag: the tag. */
  tags: string[];
  origin: ChangeOrigin | null;
}

export interface StoredEvent extends NewChange {
  sequence: number;
  /** A uuid, stable across redeliveries. */
  id: string;
  /** ISO-8601 UTC: when the change committed (to the millisecond). */
  createdAt: string;
}

export interface EventStore {
  /** Events with a sequence above `after`, in sequence order. */
  readAfter(after: number, limit: number): Promise<StoredEvent[]>;
  /** The sequence of the newest event, or 0. */
  latestSequence(): Promise<number>;
  /** The last sequence `consumer` has processed; 0 for a consumer seen for the first time. */
  cursor(consumer: string): Promise<number>;
  /** Moves the consumer's cursor forward to `sequence` (never back). */
  advanceCursor(consumer: string, sequence: number): Promise<void>;
  /**
   * Calls `listener` whenever this process commits events, so consumers can react at once
   * (other processes sharing the database find them by polling). Returns an unsubscribe function.
   */
  onAppended(listener: () => void): () => void;
  /** Removes events older than `before` that every known consumer has passed; returns how many. */
  prune(before: string): Promise<number>;
}
