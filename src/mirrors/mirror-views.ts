/** Mirrors and their history as the API and `berth mirror` show them (ACR's field style); no secret leaves. */
import { principalName } from '../auth/principal.ts';
import { sourceImageOf, stagingRepositoryOf } from './mirror-source.ts';
import type { MirrorHistoryEntry, MirrorRecord } from './mirror-store.ts';

export interface MirrorView {
  id: string;
  name: string;
  registry: string;
  /** As given at creation. */
  source: string;
  /** `<login server>/<repo>:<tag>`: what validations see as `{{.Values.SOURCE_IMAGE}}`. */
  sourceImage: string;
  /** The installation registry of the source, or null for an external one. */
  sourceRegistry: string | null;
  /** `Events` for a source in this installation, `Polling` for an external one. */
  watch: 'Events' | 'Polling';
  image: string;
  stagingRepository: string;
  validation: { type: 'None' } | { type: 'Cmd'; cmd: string } | { type: 'TaskFile'; encodedTaskContent: string };
  keepUniqueTags: number | null;
  schedule: string | null;
  pollIntervalSeconds: number | null;
  sourceCredentials: { userName: string | null; password: null };
  lastSourceDigest: string | null;
  currentDigest: string | null;
  createdBy: string;
  creationDate: string;
  lastUpdatedTime: string;
  provisioningState: 'Succeeded';
}

export interface MirrorHistoryView {
  id: number;
  mirror: string;
  digest: string;
  status: MirrorHistoryEntry['status'];
  runId: string | null;
  uniqueTag: string | null;
  message: string | null;
  createTime: string;
  lastUpdatedTime: string;
}

export function mirrorView(mirror: MirrorRecord, loginServer: (registry: string) => string, defaultPollSeconds: number): MirrorView {
  const { validation } = mirror;
  const external = mirror.source.registry === null;
  return {
    id: `/registries/${mirror.registry}/mirrors/${mirror.name}`,
    name: mirror.name,
    registry: mirror.registry,
    source: mirror.sourceText,
    sourceImage: sourceImageOf(mirror.source, loginServer),
    sourceRegistry: mirror.source.registry,
    watch: external ? 'Polling' : 'Events',
    image: `${mirror.repository}:${mirror.tag}`,
    stagingRepository: stagingRepositoryOf(mirror.repository),
    validation:
      validation.type === 'TaskFile'
        ? { type: 'TaskFile', encodedTaskContent: Buffer.from(validation.content).toString('base64') }
        : validation,
    keepUniqueTags: mirror.keepUniqueTags,
    schedule: mirror.schedule,
    pollIntervalSeconds: external && mirror.schedule === null ? (mirror.pollIntervalSeconds ?? defaultPollSeconds) : null,
    // A user name given as a secret URI is shown as that URI; passwords never.
    sourceCredentials: { userName: mirror.sourceUsername, password: null },
    lastSourceDigest: mirror.lastSourceDigest,
    currentDigest: mirror.currentDigest,
    createdBy: principalName(mirror.creator),
    creationDate: mirror.createdAt,
    lastUpdatedTime: mirror.updatedAt,
    provisioningState: 'Succeeded',
  };
}

export function historyView(entry: MirrorHistoryEntry): MirrorHistoryView {
  return {
    id: entry.id,
    mirror: entry.mirror,
    digest: entry.digest,
    status: entry.status,
    runId: entry.runId,
    uniqueTag: entry.uniqueTag,
    message: entry.message,
    createTime: entry.createdAt,
    lastUpdatedTime: entry.updatedAt,
  };
}
