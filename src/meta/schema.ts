/**
 * The metadata schema, shared by SQLite and PostgreSQL (`migrations.ts` creates it).
 *
 * Every timestamp is ISO-8601 UTC text (`2026-01-31T12:00:00.000Z`), so it sorts as it reads.
 * Registry, repository and tag names compare by bytes on both databases (SQLite's default
 * BINARY collation; `COLLATE "C"` on PostgreSQL), which is the order the catalog and tag lists
 * page through.
 *
 * registries            one row per registry of the installation.
 *   name (pk)           removed by `deleteRegistry`; every row below that belongs to the registry
 *                       goes with it (foreign keys ON DELETE CASCADE).
 * repositories          one row per repository that has ever been written to (upload, blob link,
 *   id (pk)             manifest). Rows stay when the repository empties; the catalog lists only
 *   registry, name      repositories holding a manifest. Removed with their registry.
 * blobs                 one row per blob digest known to the installation, whatever registry or
 *   digest (pk), size   repository holds it: the bytes are stored once. Not removed with a
 *                       registry; garbage collection removes rows no repository links.
 * repository_blobs      a blob linked into a repository (pushed or mounted there), which makes it
 *   (repository_id,     readable from that repository. Removed by `unlinkBlob` or with the
 *    digest) (pk)       repository.
 * manifests             a manifest stored in a repository, with the exact bytes pushed, its
 *   (repository_id,     media type, artifact type, subject and annotations (JSON text). Removed
 *    digest) (pk)       by `deleteManifest` (refused while an index in the repository lists it)
 *                       or with the repository.
 * manifest_references   what a manifest needs: `kind = 'blob'` for its config and layers,
 *   (repository_id,     `'manifest'` for an index's entries. Written with the manifest, removed
 *    parent_digest,     with it (cascade). Indexed by child to answer "who references X".
 *    kind, child_digest) (pk)
 * tags                  a tag of a repository pointing at one manifest of the same repository;
 *   (repository_id,     moved by upsert. Removed by `deleteTag`, with the manifest it points at,
 *    name) (pk)         or with the repository.
 * (Migration 0001 also made an `uploads` table of upload sessions; 0003 drops it: a session is
 * its bytes in the blob store.)
 *
 * Identity and access (migration 0002). Booleans are integers 0/1 on both databases. Secrets are
 * never stored: human passwords as argon2id hashes, generated secrets as HMAC-SHA-256 hashes
 * keyed with the installation secret (kept outside the database).
 *
 * registries (added)    `sku` (Basic|Standard|Premium) with the quota and webhook limit it sets,
 *                       `admin_enabled`, `anonymous_pull_enabled`, `resource_group`, `location`,
 *                       and the admin user's two password slots (hash + creation time, null
 *                       until first generated).
 * principals            one row per user or service principal (`kind`); the id is the
 *   id (pk)             principalId (uuid). Deleting it removes the user or service principal
 *                       row, its role assignments and its refresh tokens (cascade).
 * users                 a human user: unique `username`, argon2id `password_hash`, `owner` flag
 *   principal_id (pk)   (the installation owner holds every permission).
 * service_principals    a non-human principal: unique `app_id` (uuid, its user name) and
 *   principal_id (pk)   `display_name`, HMAC hash of its generated secret.
 * role_assignments      a role given to a principal at a scope: `/`, `/registries/<r>` or
 *   id (pk)             `/registries/<r>/repositories/<repo>` (repo may be `*` or end in `/*`).
 *                       `registry` is null for `/`; removed with the principal or the registry.
 * scope_maps            a registry's user-defined scope map; `actions` is a JSON array of
 *   (registry, name)    `repositories/<repo>/<content|metadata>/<action>`. The system scope maps
 *    (pk)               (`_repositories_*`) are not stored. Removed with the registry; refused
 *                       while a token uses it.
 * tokens                a registry's token (user name = `name`), bound to one scope map by name
 *   id (pk)             (user-defined or system), `status`, two password slots (HMAC hash,
 *                       creation time, expiry or null for never). Removed with the registry.
 * refresh_tokens        a refresh token issued, by the HMAC of its `jti`: for whom (`principal_kind`
 *   id_hash (pk)        with `principal_id` or `token_id`, or the admin user of `registry`), until
 *                       `expires_at`; `revoked` when its principal's password changes. Removed with
 *                       the principal, token or registry, and once expired.
 * signing_keys          the ES256 keys that sign access and refresh tokens: the private JWK sealed
 *   kid (pk)            (AES-256-GCM) with the installation secret, the public JWK. The one with
 *                       no `retired_at` signs; retired ones still verify until `grace_until`.
 * manifests (added)     `config_media_type`, `architecture`, `os` (of the image config),
 *                       `image_size` (manifest + config + layers) for the ACR listings, and
 *                       `updated_at` (last put or tagging).
 * tags (added)          `created_at`: when the tag was first set (`updated_at`: last moved).
 *
 * Events and webhooks (migration 0004).
 *
 * events                the outbox: one row per change (`action` push, delete or untag), written
 *   sequence (pk)       in the change's own transaction. `sequence` only grows and commits in
 *                       order (see event-store.ts); `id` is the event's uuid; `tags` a JSON array,
 *                       `origin` the request as JSON. No foreign keys: an event outlives what it
 *                       describes. Removed by pruning once every consumer has passed it.
 * event_consumers       each consumer's durable cursor: the last sequence it processed.
 *   name (pk)
 * webhooks              a registry's webhook: `actions` a JSON array, `scope` a `repo:tag` pattern
 *   id (pk)             ('' = all), `custom_headers` sealed with the installation secret.
 *                       Unique (registry, name); removed with the registry.
 * webhook_deliveries    one event (or ping) for one webhook: the JSON `payload`, `status` pending,
 *   (webhook_id,        delivered or failed, `attempts`, when it is due, the lease of the node
 *    event_id) (pk)     sending it, and the last attempt's response or error. Removed with the
 *                       webhook, and by pruning once finished.
 *
 * Garbage collection and usage (migration 0005).
 *
 * blobs (added)         `linked_at`: when the blob was last linked or mounted into a repository
 *                       (or, for a stored file without a row, adopted by garbage collection). A
 *                       row is removed by collection once no repository links it, no manifest
 *                       references it and `linked_at` is older than the grace period — in the
 *                       transaction that then deletes its bytes (see services/gc.ts).
 * repository_blobs      `linked_at`: when the link was last made, mounted or confirmed by a
 *   (added)             client's HEAD/GET. A link that no manifest of its repository references
 *                       (an abandoned or deleted push) is removed by collection once `linked_at`
 *                       is older than the grace period.
 * manifest_references   indexed by (child_digest, kind, repository_id): "is this blob referenced
 *   (added)             anywhere, or anywhere in this registry" without a scan.
 *
 * Tasks (migration 0008). JSON values are stored as text; secret material only sealed.
 *
 * tasks                 a registry's task: definition (`step`, `credentials`, `triggers` as JSON),
 *   (registry, name)    context, platform, timeout, identity, and (0010) `created_by`, the JSON of
 *   (pk)                the principal who created it. Removed with the registry.
 * task_run_counters     each registry's run id: a two-letter `prefix` and the last number given
 *   registry (pk)       (`last_seq`); a run id is the prefix and the number in base 36.
 * task_runs             a run, queued, claimed by a worker (`claimed_by`) and finished. `id` orders
 *   id (pk)             the queue across registries (oldest first); `seq` orders a registry's runs.
 *                       Unique (registry, run_id); `output_images`, `request`, `trigger_details`
 *                       JSON. Removed with the registry.
 * task_run_logs         a run's log in chunks numbered from 0; removed with the run.
 *   (registry, run_id,
 *    seq) (pk)
 * secrets               the secret store: the current value of each secret of each vault, sealed
 *   (vault, name) (pk)  (AES-256-GCM) with a key derived from the installation secret; `version`
 *                       is new at every set. Vaults belong to the installation, not a registry.
 *
 * Task triggers (migration 0009; see `trigger-store.ts`). Every row is removed with its task
 * (and so with the registry).
 *
 * task_commit_cursors   the last commit the task's commit trigger handled, moved by compare-and-set.
 *   (registry, task)
 *    (pk)
 * task_base_images      a base image the task's last build started FROM, as the FROM line named it
 *   (registry, task,    (`login_server`), the installation registry behind it (`registry_ref`, null
 *    login_server,      for an external registry), the digest used (null if unknown, moved by
 *    repository, tag)   compare-and-set) and `type` Runtime or BuildTime. Indexed by
 *    (pk)               (registry_ref, repository, tag) to find the tasks a tag move concerns.
 * task_timer_fires      a timer occurrence (ISO minute, UTC) already fired; the primary key lets
 *   (registry, task,    one caller claim it. Occurrences a week older than the task's latest
 *    timer, occurrence) claim are pruned.
 *    (pk)
 *
 * Mirrors (migration 0011; see `mirrors/mirror-store.ts`).
 *
 * mirrors               a gated copy of an upstream tag (`source_registry` of this installation, or
 *   (registry, name)    `source_host` for an external one) into `repository:tag`; the validation,
 *   (pk)                limits, polling, source credentials (password sealed or a secret URI), the
 *                       creator's principal (JSON), the last upstream digest handled (moved by
 *                       compare-and-set) and the digest last put under the target tag. Removed
 *                       with the registry; indexed by source to find the mirrors an event concerns.
 * mirror_history        each upstream digest through the gate (Staged, Validating with its run id,
 *   id (pk)             Promoted with its unique tag, Failed with why) and each RolledBack. Removed
 *                       with its mirror.
 *
 * Small blobs (migration 0012).
 *
 * blobs (added)         `content`: the bytes of a blob small enough to live in its row (see
 *                       services/inline-blobs.ts), written in the transaction that links it, so
 *                       pushing one costs one commit and no file; null for a blob whose bytes are
 *                       in the blob store. The bytes go with the row (garbage collection).
 *
 * Lean indexes (migration 0014): indexes written by every manifest push hold only what is read.
 *
 * manifests             the untagged and subject indexes cover only rows where the column is set.
 * manifest_references   one index by child, (child_digest, kind, repository_id, parent_digest),
 *                       instead of 0001's (repository_id, child_digest, kind, parent_digest) and
 *                       0005's (child_digest, kind, repository_id).
 */
import type { ColumnType, Generated } from 'kysely';

export interface RegistriesTable {
  name: string;
  created_at: string;
  sku: Generated<string>;
  admin_enabled: Generated<number>;
  anonymous_pull_enabled: Generated<number>;
  resource_group: string | null;
  location: string | null;
  quota_bytes: Generated<number>;
  webhook_limit: Generated<number>;
  /** 1 while the quarantine policy is enabled (0006). */
  quarantine_enabled: Generated<number>;
  /** Retention policy for untagged manifests (0007): 'enabled' | 'disabled', days 0..365. */
  retention_status: Generated<string>;
  retention_days: Generated<number>;
  retention_include_existing: Generated<number>;
  /** When the policy was last enabled; manifests untagged before it are kept unless include-existing. */
  retention_enabled_at: string | null;
  admin_password1_hash: string | null;
  admin_password1_created_at: string | null;
  admin_password2_hash: string | null;
  admin_password2_created_at: string | null;
}

/** Changeable attributes (0006): 1 = enabled, the default; 0 = locked. */
export interface LockColumns {
  delete_enabled: Generated<number>;
  write_enabled: Generated<number>;
  read_enabled: Generated<number>;
  list_enabled: Generated<number>;
}

export interface RepositoriesTable extends LockColumns {
  id: Generated<number>;
  registry: string;
  name: string;
  created_at: string;
}

export interface BlobsTable {
  digest: string;
  size: number;
  created_at: string;
  /** Nullable column (added by 0005, which filled it for existing rows); always written. */
  linked_at: string;
  /** The bytes of a small blob kept in its row (0012); null for a blob stored in the blob store. */
  content: ColumnType<Buffer | null, Uint8Array | null | undefined, Uint8Array | null>;
}

/** Upload sessions that ended, while their ids could still open a session (0013). */
export interface EndedUploadsTable {
  id: string;
  /** ISO time after which the id opens nothing anyway and the row may go. */
  until: string;
}

export interface RepositoryBlobsTable {
  repository_id: number;
  digest: string;
  created_at: string;
  /** Nullable column (added by 0005, which filled it for existing rows); always written. */
  linked_at: string;
}

export interface ManifestsTable extends LockColumns {
  repository_id: number;
  digest: string;
  media_type: string;
  artifact_type: string | null;
  subject: string | null;
  size: number;
  content: Buffer;
  /** JSON object text, or null. */
  annotations: string | null;
  created_at: string;
  config_media_type: string | null;
  architecture: string | null;
  os: string | null;
  image_size: number | null;
  /** Nullable column (added by 0002, which filled it for existing rows); always written. */
  updated_at: string;
  /** 'Pending' | 'Passed' | 'Failed'; null when never quarantined (0006). */
  quarantine_state: string | null;
  quarantine_details: string | null;
  /** When the manifest lost its last tag; null while tagged or never tagged (0007). */
  untagged_at: string | null;
}

export type ReferenceKind = 'blob' | 'manifest';

export interface ManifestReferencesTable {
  repository_id: number;
  parent_digest: string;
  child_digest: string;
  kind: ReferenceKind;
}

export interface TagsTable extends LockColumns {
  repository_id: number;
  name: string;
  digest: string;
  updated_at: string;
  /** Nullable column (added by 0002, which filled it for existing rows); always written. */
  created_at: string;
}

export type PrincipalKind = 'user' | 'servicePrincipal';

export interface PrincipalsTable {
  id: string;
  kind: PrincipalKind;
  created_at: string;
}

export interface UsersTable {
  principal_id: string;
  username: string;
  password_hash: string;
  owner: number;
}

export interface ServicePrincipalsTable {
  principal_id: string;
  app_id: string;
  display_name: string;
  secret_hash: string;
}

export interface RoleAssignmentsTable {
  id: string;
  principal_id: string;
  role: string;
  scope: string;
  registry: string | null;
  created_at: string;
}

export interface ScopeMapsTable {
  registry: string;
  name: string;
  description: string;
  /** JSON array text. */
  actions: string;
  created_at: string;
}

export interface TokensTable {
  id: string;
  registry: string;
  name: string;
  scope_map: string;
  status: 'enabled' | 'disabled';
  created_at: string;
  password1_hash: string | null;
  password1_created_at: string | null;
  password1_expires_at: string | null;
  password2_hash: string | null;
  password2_created_at: string | null;
  password2_expires_at: string | null;
}

export interface RefreshTokensTable {
  id_hash: string;
  registry: string;
  principal_kind: 'user' | 'servicePrincipal' | 'admin' | 'token';
  principal_id: string | null;
  token_id: string | null;
  created_at: string;
  expires_at: string;
  revoked: number;
}

export interface SigningKeysTable {
  kid: string;
  private_key: string;
  public_jwk: string;
  created_at: string;
  /** 1 for the signing key, null for retired ones. */
  signing: number | null;
  retired_at: string | null;
  grace_until: string | null;
}

export interface EventsTable {
  sequence: Generated<number>;
  id: string;
  created_at: string;
  action: string;
  registry: string;
  repository: string;
  digest: string;
  media_type: string | null;
  size: number | null;
  /** JSON array text. */
  tags: string;
  /** JSON object text, or null. */
  origin: string | null;
}

export interface EventConsumersTable {
  name: string;
  position: number;
  updated_at: string;
}

export interface WebhooksTable {
  id: string;
  registry: string;
  name: string;
  service_uri: string;
  /** JSON array text. */
  actions: string;
  scope: string;
  status: 'enabled' | 'disabled';
  custom_headers: string | null;
  created_at: string;
  updated_at: string;
}

export interface WebhookDeliveriesTable {
  webhook_id: string;
  event_id: string;
  event_sequence: number | null;
  action: string;
  payload: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  created_at: string;
  next_attempt_at: string;
  lease_until: string | null;
  last_attempt_at: string | null;
  response_status: number | null;
  response_reason: string | null;
  /** JSON object text, or null. */
  response_headers: string | null;
  response_body: string | null;
  error: string | null;
}

export interface TasksTable {
  registry: string;
  name: string;
  status: 'Enabled' | 'Disabled';
  platform: string;
  timeout_seconds: number;
  context_path: string | null;
  context_access_token: string | null;
  /** JSON text. */
  step: string;
  /** JSON array text. */
  credentials: string;
  identity_principal_id: string | null;
  /** JSON text, or null. */
  triggers: string | null;
  /** The principal who created the task, JSON text (0010); null for tasks created before. */
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

export interface TaskRunCountersTable {
  registry: string;
  prefix: string;
  last_seq: number;
}

export interface TaskRunsTable {
  id: Generated<number>;
  registry: string;
  run_id: string;
  seq: number;
  task: string | null;
  run_type: string;
  trigger: string;
  status: string;
  platform: string;
  create_time: string;
  start_time: string | null;
  finish_time: string | null;
  /** JSON array text. */
  output_images: string;
  error_message: string | null;
  /** JSON text. */
  request: string;
  /** JSON text, or null. */
  trigger_details: string | null;
  claimed_by: string | null;
  cancel_requested: Generated<number>;
}

export interface TaskRunLogsTable {
  registry: string;
  run_id: string;
  seq: number;
  text: string;
}

export interface SecretsTable {
  vault: string;
  name: string;
  value: string;
  content_type: string | null;
  version: string;
  created_at: string;
  updated_at: string;
}

export interface TaskCommitCursorsTable {
  registry: string;
  task: string;
  commit: string;
  updated_at: string;
}

export interface TaskBaseImagesTable {
  registry: string;
  task: string;
  login_server: string;
  repository: string;
  tag: string;
  registry_ref: string | null;
  digest: string | null;
  type: 'Runtime' | 'BuildTime';
}

export interface TaskTimerFiresTable {
  registry: string;
  task: string;
  timer: string;
  occurrence: string;
}

export interface MirrorsTable {
  registry: string;
  name: string;
  source_text: string;
  source_registry: string | null;
  source_host: string | null;
  source_repository: string;
  source_tag: string;
  repository: string;
  tag: string;
  validation_type: 'None' | 'Cmd' | 'TaskFile';
  validation: string | null;
  keep_unique_tags: number | null;
  schedule: string | null;
  poll_interval_seconds: number | null;
  source_username: string | null;
  source_password: string | null;
  /** JSON text of the creator's principal. */
  creator: string;
  last_source_digest: string | null;
  current_digest: string | null;
  created_at: string;
  updated_at: string;
}

export interface MirrorHistoryTable {
  id: Generated<number>;
  registry: string;
  mirror: string;
  digest: string;
  status: 'Staged' | 'Validating' | 'Promoted' | 'Failed' | 'RolledBack';
  run_id: string | null;
  unique_tag: string | null;
  message: string | null;
  created_at: string;
  updated_at: string;
}

export interface Database {
  registries: RegistriesTable;
  repositories: RepositoriesTable;
  blobs: BlobsTable;
  repository_blobs: RepositoryBlobsTable;
  ended_uploads: EndedUploadsTable;
  manifests: ManifestsTable;
  manifest_references: ManifestReferencesTable;
  tags: TagsTable;
  principals: PrincipalsTable;
  users: UsersTable;
  service_principals: ServicePrincipalsTable;
  role_assignments: RoleAssignmentsTable;
  scope_maps: ScopeMapsTable;
  tokens: TokensTable;
  refresh_tokens: RefreshTokensTable;
  signing_keys: SigningKeysTable;
  events: EventsTable;
  event_consumers: EventConsumersTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  tasks: TasksTable;
  task_run_counters: TaskRunCountersTable;
  task_runs: TaskRunsTable;
  task_run_logs: TaskRunLogsTable;
  secrets: SecretsTable;
  task_commit_cursors: TaskCommitCursorsTable;
  task_base_images: TaskBaseImagesTable;
  task_timer_fires: TaskTimerFiresTable;
  mirrors: MirrorsTable;
  mirror_history: MirrorHistoryTable;
}
