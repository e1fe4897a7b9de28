/**
 * Import jobs as the management API shows them: status, progress and a clear error. Jobs live in
 * the memory of the node that runs them, kept for a day after they finish (at most 1,000 finished
 * ones). A restart forgets them; an import cut short by one leaves nothing visible, because the
 * manifest and its tags are written last, so the caller simply imports again.
 */
import { randomUUID } from 'node:crypto';

export type ImportStatus = 'Running' | 'Succeeded' | 'Failed';

export interface ImportProgress {
  manifests: { total: number; copied: number };
  /** `copied`: bytes transferred; `linked`: already in the installation; `skipped`: already in the target repository. */
  blobs: { total: number; copied: number; linked: number; skipped: number };
  /** Bytes of the blobs to transfer, and transferred so far. */
  bytes: { total: number; copied: number };
}

export interface ImportJob {
  id: string;
  /** The target registry. */
  registry: string;
  status: ImportStatus;
  /** The source image as given (`host/repo:tag`, or `repo:tag` of `sourceRegistry`). */
  source: string;
  /** A source registry of this installation, or null for a remote source. */
  sourceRegistry: string | null;
  targetTags: string[];
  untaggedTargetRepositories: string[];
  mode: 'Force' | 'NoForce';
  /** The imported manifest's digest and media type, once known. */
  digest: string | null;
  mediaType: string | null;
  progress: ImportProgress;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export type NewImportJob = Pick<ImportJob, 'registry' | 'source' | 'sourceRegistry' | 'targetTags' | 'untaggedTargetRepositories' | 'mode'>;

const KEEP_FINISHED_MS = 24 * 3600_000;
const MAX_FINISHED = 1000;

export class ImportJobs {
  private readonly jobs = new Map<string, ImportJob>();

  create(fields: NewImportJob): ImportJob {
    this.prune();
    const job: ImportJob = {
      id: randomUUID(),
      ...fields,
      status: 'Running',
      digest: null,
      mediaType: null,
      progress: { manifests: { total: 0, copied: 0 }, blobs: { total: 0, copied: 0, linked: 0, skipped: 0 }, bytes: { total: 0, copied: 0 } },
      error: null,
      createdAt: new Date().toISOString(),
      finishedAt: null,
    };
    this.jobs.set(job.id, job);
    return job;
  }

  /** The job of `registry` with this id. */
  get(registry: string, id: string): ImportJob | undefined {
    const job = this.jobs.get(id);
    return job?.registry === registry ? job : undefined;
  }

  succeed(job: ImportJob): void {
    job.status = 'Succeeded';
    job.finishedAt = new Date().toISOString();
  }

  fail(job: ImportJob, message: string): void {
    job.status = 'Failed';
    job.error = message;
    job.finishedAt = new Date().toISOString();
  }

  private prune(now = Date.now()): void {
    const finished = [...this.jobs.values()].filter((job) => job.finishedAt !== null);
    const excess = finished.length - MAX_FINISHED;
    finished.forEach((job, position) => {
      if (position < excess || now - Date.parse(job.finishedAt!) > KEEP_FINISHED_MS) this.jobs.delete(job.id);
    });
  }
}
