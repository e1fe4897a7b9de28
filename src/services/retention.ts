/**
 * The retention job: deletes the untagged manifests that registries' retention policies make due,
 * through `ManifestService.delete`, so locks are respected and `delete` events recorded. A manifest
 * refused (locked, tagged again, or referenced meanwhile) is skipped and reconsidered next run.
 */
import type { Logger } from 'pino';
import type { DueManifest, RetentionStore } from '../meta/retention-store.ts';
import { RegistryError } from '../oci/errors.ts';
import type { ManifestService } from './manifests.ts';

/** Manifests one run considers; the next run continues with the rest. */
const BATCH = 500;

export interface RetentionReport {
  deleted: DueManifest[];
  skipped: DueManifest[];
}

export class RetentionJob {
  constructor(
    private readonly policies: Pick<RetentionStore, 'dueUntaggedManifests'>,
    private readonly manifests: Pick<ManifestService, 'delete'>,
  ) {}

  async run(now = new Date()): Promise<RetentionReport> {
    const report: RetentionReport = { deleted: [], skipped: [] };
    for (const due of await this.policies.dueUntaggedManifests(now, BATCH)) {
      try {
        await this.manifests.delete(due.registry, due.repository, { kind: 'digest', digest: due.digest });
        report.deleted.push(due);
      } catch (error) {
        if (!(error instanceof RegistryError)) throw error;
        report.skipped.push(due);
      }
    }
    return report;
  }
}

export interface RetentionSchedule {
  stop(): Promise<void>;
}

/** Runs the job every `intervalMs`, never two runs at once; `stop` waits for a run under way. */
export function scheduleRetention(job: Pick<RetentionJob, 'run'>, { intervalMs, logger }: { intervalMs: number; logger: Logger }): RetentionSchedule {
  let current: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (current) return;
    current = job
      .run()
      .then((report) => {
        if (report.deleted.length > 0 || report.skipped.length > 0) {
          logger.info({ deleted: report.deleted.length, skipped: report.skipped.length }, 'retention deleted untagged manifests');
        }
      })
      .catch((error: unknown) => logger.error({ err: error }, 'retention run failed'))
      .finally(() => {
        current = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await current;
    },
  };
}
