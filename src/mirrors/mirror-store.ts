/**
 * What a mirror is and what it remembers: the upstream tag it watches, the target it promotes to,
 * the validation, and the history of every upstream digest it handled. The "new digest" step is
 * a compare-and-set on the last upstream digest seen, in one transaction with the history entry
 * it opens, so each upstream change is handled once across restarts and nodes.
 */
import type { Principal } from '../auth/principal.ts';

/** How a staged image is validated: not at all, one command, or a task file's text. */
export type MirrorValidation = { type: 'None' } | { type: 'Cmd'; cmd: string } | { type: 'TaskFile'; content: string };

export interface MirrorSource {
  /** The registry of this installation the source is in (watched through events), or null for an external one (polled). */
  registry: string | null;
  /** `host[:port]` of an external source; null for a registry of this installation. */
  host: string | null;
  repository: string;
  tag: string;
}

export interface NewMirror {
  registry: string;
  name: string;
  /** The source as the creator wrote it. */
  sourceText: string;
  source: MirrorSource;
  /** The target: `repository:tag` in `registry`. */
  repository: string;
  tag: string;
  validation: MirrorValidation;
  /** Unique tags kept after each promotion; null keeps all. */
  keepUniqueTags: number | null;
  /** 5-field cron expression (UTC) of the polls of an external source. */
  schedule: string | null;
  /** Seconds between polls of an external source without a schedule; null: the server's default. */
  pollIntervalSeconds: number | null;
  /** For an external source: clear text or a secret URI. */
  sourceUsername: string | null;
  /** Sealed, or a secret URI. */
  sourcePassword: string | null;
  /** Who created the mirror: validation runs use this identity. */
  creator: Principal;
}

export interface MirrorRecord extends NewMirror {
  /** The last upstream digest handled (staged, and validated or refused); null before the first. */
  lastSourceDigest: string | null;
  /** The digest the mirror last put under the target tag (by promotion or rollback). */
  currentDigest: string | null;
  createdAt: string;
  updatedAt: string;
}

export const mirrorEntryStatuses = ['Staged', 'Validating', 'Promoted', 'Failed', 'RolledBack'] as const;
export type MirrorEntryStatus = (typeof mirrorEntryStatuses)[number];

/** One upstream digest on its way through the gate, or one rollback. */
export interface MirrorHistoryEntry {
  id: number;
  registry: string;
  mirror: string;
  digest: string;
  status: MirrorEntryStatus;
  /** The validation run. */
  runId: string | null;
  /** The unique tag a promotion added. */
  uniqueTag: string | null;
  message: string | null;
  createdAt: string;
  updatedAt: string;
}

export type MirrorEntryChanges = Partial<Pick<MirrorHistoryEntry, 'status' | 'runId' | 'uniqueTag' | 'message'>>;

export interface MirrorStore {
  /** Throws `MirrorExistsError`, or `RegistryNotFoundError` for an unknown registry. */
  createMirror(mirror: NewMirror): Promise<MirrorRecord>;
  getMirror(registry: string, name: string): Promise<MirrorRecord | undefined>;
  listMirrors(registry: string): Promise<MirrorRecord[]>;
  /** Every mirror of every registry. */
  allMirrors(): Promise<MirrorRecord[]>;
  /** Mirrors watching `repository:tag` of the installation registry `registry`. */
  mirrorsOfSource(registry: string, repository: string, tag: string): Promise<MirrorRecord[]>;
  /** Removes the mirror and its history. */
  deleteMirror(registry: string, name: string): Promise<boolean>;

  /**
   * Moves the last upstream digest from `expected` to `digest` and opens a `Staged` history
   * entry for it, in one transaction; undefined (nothing changed) unless this caller moved it.
   */
  claimDigest(registry: string, name: string, expected: string | null, digest: string): Promise<MirrorHistoryEntry | undefined>;
  updateEntry(id: number, changes: MirrorEntryChanges): Promise<void>;
  /** Marks the entry Promoted with its unique tag and makes its digest the mirror's current one. */
  promoted(id: number, uniqueTag: string, message: string | null): Promise<void>;
  /** Records a rollback to `digest` and makes it the mirror's current one. */
  rolledBack(registry: string, name: string, digest: string, message: string): Promise<MirrorHistoryEntry>;
  /** Newest first; at most `top`. */
  history(registry: string, name: string, top?: number): Promise<MirrorHistoryEntry[]>;
  /** Entries still Staged or Validating (work a stop cut short), oldest first. */
  unfinishedEntries(): Promise<MirrorHistoryEntry[]>;
}

export class MirrorExistsError extends Error {
  constructor(
    readonly registry: string,
    readonly mirror: string,
  ) {
    super(`mirror ${mirror} already exists in registry ${registry}`);
    this.name = 'MirrorExistsError';
  }
}
