/**
 * A registry's retention policy for untagged manifests (ACR's `config retention`), and the
 * manifests it makes due: untagged for at least `days`, untagged after the policy was enabled
 * unless `includeExisting`, not delete-locked, and referenced by no other manifest (neither an
 * index's child nor a referrer's subject).
 */

export type RetentionStatus = 'enabled' | 'disabled';

export interface RetentionPolicy {
  status: RetentionStatus;
  /** 0..365; 0 deletes at once. */
  days: number;
  type: 'UntaggedManifests';
  includeExisting: boolean;
  /** When the policy was last enabled (ISO 8601), or null if never. */
  enabledAt: string | null;
}

export interface RetentionPolicyChanges {
  status?: RetentionStatus;
  days?: number;
  includeExisting?: boolean;
}

export interface DueManifest {
  registry: string;
  repository: string;
  digest: string;
}

export interface RetentionStore {
  retentionPolicy(registry: string): Promise<RetentionPolicy | undefined>;
  /** Enabling a disabled policy restarts its clock (`enabledAt`); undefined when the registry does not exist. */
  setRetentionPolicy(registry: string, changes: RetentionPolicyChanges): Promise<RetentionPolicy | undefined>;
  /** Up to `limit` manifests the enabled policies make due at `now`, oldest untagged first. */
  dueUntaggedManifests(now: Date, limit: number): Promise<DueManifest[]>;
}
