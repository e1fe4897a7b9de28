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
 * uploads               an open blob upload session (its bytes live in the blob store). Removed
 *   id (pk)             when the upload completes or is cancelled, by expiry, or with the
 *                       repository.
 */
import type { Generated } from 'kysely';

export interface RegistriesTable {
  name: string;
  created_at: string;
}

export interface RepositoriesTable {
  id: Generated<number>;
  registry: string;
  name: string;
  created_at: string;
}

export interface BlobsTable {
  digest: string;
  size: number;
  created_at: string;
}

export interface RepositoryBlobsTable {
  repository_id: number;
  digest: string;
  created_at: string;
}

export interface ManifestsTable {
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
}

export type ReferenceKind = 'blob' | 'manifest';

export interface ManifestReferencesTable {
  repository_id: number;
  parent_digest: string;
  child_digest: string;
  kind: ReferenceKind;
}

export interface TagsTable {
  repository_id: number;
  name: string;
  digest: string;
  updated_at: string;
}

export interface UploadsTable {
  id: string;
  repository_id: number;
  created_at: string;
}

export interface Database {
  registries: RegistriesTable;
  repositories: RepositoriesTable;
  blobs: BlobsTable;
  repository_blobs: RepositoryBlobsTable;
  manifests: ManifestsTable;
  manifest_references: ManifestReferencesTable;
  tags: TagsTable;
  uploads: UploadsTable;
}
