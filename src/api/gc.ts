/** `/mgmt/v1/gc/runs`: run a garbage collection now, or see what one would reclaim (`berth gc run [--dry-run]`). */
import type { FastifyInstance } from 'fastify';
import type { GarbageCollector } from '../services/gc.ts';
import { problemResponses } from './schemas.ts';

export interface GcApiOptions {
  gc: Pick<GarbageCollector, 'run'>;
}

const string = { type: 'string' } as const;
const integer = { type: 'integer' } as const;
const blobSchema = { type: 'object', properties: { digest: string, size: integer } } as const;

export const gcReportSchema = {
  type: 'object',
  properties: {
    dryRun: { type: 'boolean' },
    startedAt: string,
    finishedAt: string,
    gracePeriodSeconds: { type: 'number' },
    unlinkedBlobs: {
      type: 'array',
      description: 'links removed from repositories: referenced by no manifest there and older than the grace period',
      items: { type: 'object', properties: { registry: string, repository: string, digest: string, size: integer } },
    },
    deletedBlobs: { type: 'array', description: 'blobs whose bytes were deleted', items: blobSchema },
    expiredUploads: { type: 'array', description: 'abandoned upload sessions', items: { type: 'object', properties: { id: string, size: integer } } },
    reclaimedBytes: { type: 'integer', description: 'bytes freed in storage by deleted blobs and expired uploads' },
  },
} as const;

export async function gcApi(app: FastifyInstance, { gc }: GcApiOptions): Promise<void> {
  app.post<{ Body: { dryRun?: boolean } | undefined }>(
    '/gc/runs',
    {
      config: { access: { action: 'manage_installation' } },
      schema: {
        summary: 'Collect garbage now: unreferenced blobs past the grace period and abandoned uploads (berth gc run); with dryRun, only report what would go',
        tags: ['gc'],
        body: { type: ['object', 'null'], properties: { dryRun: { type: 'boolean' } }, additionalProperties: false },
        response: { 200: gcReportSchema, ...problemResponses },
      },
    },
    async (request) => gc.run({ dryRun: request.body?.dryRun === true }),
  );
}
