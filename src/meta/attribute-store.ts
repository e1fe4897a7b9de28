/**
 * Changeable attributes (ACR's locks) of repositories, tags and manifests, a manifest's quarantine
 * state, and a registry's quarantine policy. Every attribute defaults to enabled; a manifest has no
 * quarantine state unless it was pushed while the policy was on.
 */
import type { ChangeOrigin } from './event-store.ts';

export interface ChangeableAttributes {
  deleteEnabled: boolean;
  writeEnabled: boolean;
  readEnabled: boolean;
  listEnabled: boolean;
}

export const lockNames = ['deleteEnabled', 'writeEnabled', 'readEnabled', 'listEnabled'] as const;
export type LockName = (typeof lockNames)[number];

export const quarantineStates = ['Pending', 'Passed', 'Failed'] as const;
export type QuarantineState = (typeof quarantineStates)[number];

export interface ManifestAttributes extends ChangeableAttributes {
  quarantineState: QuarantineState | null;
  quarantineDetails: string | null;
}

export interface ManifestAttributeChanges extends Partial<ChangeableAttributes> {
  quarantineState?: QuarantineState;
  quarantineDetails?: string;
}

/** A tag with the manifest it points at and both their attributes. */
export interface TagAttributes {
  digest: string;
  attributes: ChangeableAttributes;
  manifest: ManifestAttributes;
}

/** Every lock that applies to a manifest, for a delete of it: its own, and those of its tags. */
export interface ManifestLocks {
  attributes: ManifestAttributes;
  tags: { name: string; attributes: ChangeableAttributes }[];
}

export interface AttributeStore {
  /** Undefined when the repository does not exist. */
  repository(registry: string, repository: string): Promise<ChangeableAttributes | undefined>;
  updateRepository(registry: string, repository: string, changes: Partial<ChangeableAttributes>): Promise<ChangeableAttributes | undefined>;
  tag(registry: string, repository: string, tag: string): Promise<TagAttributes | undefined>;
  updateTag(registry: string, repository: string, tag: string, changes: Partial<ChangeableAttributes>): Promise<TagAttributes | undefined>;
  manifest(registry: string, repository: string, digest: string): Promise<ManifestLocks | undefined>;
  /** A release from quarantine (to `Passed`) records the `push` event that the quarantine held back. */
  updateManifest(registry: string, repository: string, digest: string, changes: ManifestAttributeChanges, origin?: ChangeOrigin | null): Promise<ManifestAttributes | undefined>;
  /** Of every tag and manifest in the repository: the first locked against `lock`, for a repository delete. */
  firstLocked(registry: string, repository: string, locks: LockName[]): Promise<{ kind: 'tag' | 'manifest'; name: string; lock: LockName } | undefined>;

  /** Every manifest digest and tag name in the repository, hidden ones included. */
  contents(registry: string, repository: string): Promise<{ manifests: string[]; tags: string[] }>;

  quarantineEnabled(registry: string): Promise<boolean | undefined>;
  setQuarantineEnabled(registry: string, enabled: boolean): Promise<boolean | undefined>;
}
