/** The `{{.Run.X}}` values of one run (ACR's run variables). */
import type { RunVariables } from '../model.ts';

/** Go's `20060102-150405z` in UTC: `yyyyMMdd-HHmmssz`. */
export function runDate(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return (
    `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}-` +
    `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}z`
  );
}

export interface RunVariableInput {
  runId: string;
  registryName: string;
  loginServer: string;
  startedAt: Date;
  /** `os/arch[/variant]` the steps run on. */
  hostPlatform: string;
  commit?: string;
  branch?: string;
  repository?: string;
  taskName: string;
  triggeredBy: string;
  sharedVolume: string;
}

export function runVariables(input: RunVariableInput): RunVariables {
  const [os = 'linux', architecture = 'amd64'] = input.hostPlatform.split('/');
  return {
    ID: input.runId,
    Registry: input.loginServer,
    RegistryName: input.registryName,
    Date: runDate(input.startedAt),
    OS: os,
    OSVersion: '',
    Architecture: architecture,
    Commit: input.commit ?? '',
    Branch: input.branch ?? '',
    GitTag: '',
    Repository: input.repository ?? '',
    TriggeredBy: input.triggeredBy,
    TaskName: input.taskName,
    SharedVolume: input.sharedVolume,
  };
}
