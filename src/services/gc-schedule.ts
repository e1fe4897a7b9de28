/** The background garbage collection: one run every interval, never two at once, logged. */
import type { Logger } from 'pino';
import { CollectionStoppedError, type GarbageCollector } from './gc.ts';

export interface GcScheduleOptions {
  enabled: boolean;
  intervalMs: number;
  logger: Logger;
}

export interface GcSchedule {
  stop(): void;
}

export function scheduleCollections(gc: Pick<GarbageCollector, 'run'>, { enabled, intervalMs, logger }: GcScheduleOptions): GcSchedule {
  if (!enabled) {
    logger.info('background garbage collection is off (gc.enabled = false); run it with berth gc run');
    return { stop() {} };
  }
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    gc.run()
      .then((report) => {
        logger.info(
          { unlinkedBlobs: report.unlinkedBlobs.length, deletedBlobs: report.deletedBlobs.length, expiredUploads: report.expiredUploads.length, reclaimedBytes: report.reclaimedBytes },
          'garbage collection finished',
        );
      })
      .catch((error: unknown) => {
        if (!(error instanceof CollectionStoppedError)) logger.error({ err: error }, 'garbage collection failed');
      })
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
    },
  };
}
