/** Why a run was stopped before its steps finished; carried as the run's `AbortSignal` reason. */
export type RunStopKind = 'canceled' | 'timeout' | 'stopped';

export class RunStop extends Error {
  constructor(
    readonly kind: RunStopKind,
    message: string,
  ) {
    super(message);
    this.name = 'RunStop';
  }
}

export function runStopOf(signal: AbortSignal): RunStop | undefined {
  return signal.aborted && signal.reason instanceof RunStop ? signal.reason : undefined;
}
