/**
 * Runs a task's steps as a dependency graph (ACR's `when`): a step starts once every step it
 * depends on has succeeded, so independent steps run in parallel. A failed step fails the run and
 * its dependants (directly or further down) never start; other branches carry on.
 */

export type StepState = 'pending' | 'running' | 'successful' | 'failed' | 'skipped';

export interface GraphStep {
  id: string;
  dependsOn: string[];
}

export interface GraphResult {
  states: Map<string, StepState>;
  /** The first step that failed, if any, with its reason. */
  failure?: { stepId: string; message: string };
}

export interface GraphHooks<S extends GraphStep> {
  /** Executes one step; resolves true on success, false (with a message) on failure. */
  run(step: S): Promise<{ ok: true } | { ok: false; message: string }>;
  /** A step will never run because `cause` did not succeed. */
  skipped(step: S, cause: string): void;
}

export async function runStepGraph<S extends GraphStep>(steps: readonly S[], hooks: GraphHooks<S>, signal: AbortSignal): Promise<GraphResult> {
  const states = new Map<string, StepState>(steps.map((step) => [step.id, 'pending']));
  let failure: GraphResult['failure'];
  const running = new Map<string, Promise<void>>();

  const skipBlocked = () => {
    for (let changed = true; changed; ) {
      changed = false;
      for (const step of steps) {
        if (states.get(step.id) !== 'pending') continue;
        const cause = step.dependsOn.find((id) => {
          const state = states.get(id);
          return state === 'failed' || state === 'skipped' || state === undefined;
        });
        if (cause === undefined) continue;
        states.set(step.id, 'skipped');
        hooks.skipped(step, cause);
        changed = true;
      }
    }
  };

  for (;;) {
    skipBlocked();
    if (!signal.aborted) {
      for (const step of steps) {
        if (states.get(step.id) !== 'pending' || !step.dependsOn.every((id) => states.get(id) === 'successful')) continue;
        states.set(step.id, 'running');
        const execution = hooks.run(step).then(
          (outcome) => outcome,
          (error: unknown) => ({ ok: false as const, message: error instanceof Error ? error.message : String(error) }),
        );
        running.set(
          step.id,
          execution.then((outcome) => {
            running.delete(step.id);
            states.set(step.id, outcome.ok ? 'successful' : 'failed');
            if (!outcome.ok) failure ??= { stepId: step.id, message: outcome.message };
          }),
        );
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  // Steps left pending were never reachable (aborted run, or a dependency cycle).
  return { states, ...(failure ? { failure } : {}) };
}
