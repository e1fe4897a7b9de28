/**
 * Executes one step of a task file through the executor session: start delay, per-step timeout,
 * retries and repeats, exit code conditions, `ignoreErrors`, and ACR-style log lines around it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CmdSpec, ContainerStepOptions, TaskFile, TaskStep } from '../model.ts';
import { StepError, type ContainerRequest, type ExecutorSession, type StepOutput } from '../executor/executor.ts';
import type { HostCommandContext, HostCommandRunner } from './host-command.ts';

export interface StepOutputStream extends StepOutput {
  /** Releases anything held back for masking. */
  end(): void;
}

export interface StepEnvironment {
  session: ExecutorSession;
  taskFile: TaskFile;
  /** The run's platform (`os/arch[/variant]`), used for builds that do not name one. */
  platform: string | undefined;
  /** Owner of detached containers that outlive the run (task runs), or null. */
  detachedOwner: string | null;
  /** Writes one line of the engine's own to the log (masked). */
  log(line: string): void;
  /** A masked output stream for one step execution. */
  output(): StepOutputStream;
  /** Host folder holding the files of a task file volume. */
  volumePath(name: string): string;
  /** A push finished: the run's output images. */
  pushed(image: string, digest: string): void;
  host: HostCommandRunner;
  hostContext: HostCommandContext;
}

export type StepOutcome = { ok: true } | { ok: false; message: string };

class StepTimedOut extends Error {}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

export async function executeStep(step: TaskStep, env: StepEnvironment, runSignal: AbortSignal): Promise<StepOutcome> {
  const workingDirectory = step.kind === 'push' ? '' : (step.workingDirectory ?? '');
  const network = step.kind === 'push' ? '' : (step.network ?? '');
  env.log(`Executing step ID: ${step.id}. Timeout(sec): ${step.timeoutSeconds}, Working directory: '${workingDirectory}', Network: '${network}'`);
  const started = Date.now();
  if (step.startDelaySeconds > 0) {
    env.log(`Waiting ${step.startDelaySeconds}s before starting step ID: ${step.id}`);
    await sleep(step.startDelaySeconds * 1000, undefined, { signal: runSignal });
  }
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new StepTimedOut()), step.timeoutSeconds * 1000);
  const signal = AbortSignal.any([runSignal, timeout.signal]);
  try {
    await perform(step, env, signal);
    env.log(`Step ID: ${step.id} marked as successful (elapsed time in seconds: ${seconds(Date.now() - started)})`);
    return { ok: true };
  } catch (error) {
    if (runSignal.aborted) throw runSignal.reason;
    const message = timeout.signal.aborted ? `step ${step.id} timed out after ${step.timeoutSeconds}s` : messageOf(error);
    if (step.ignoreErrors) {
      env.log(`Step ID: ${step.id} failed (${message}); ignoreErrors is set, so it is marked as successful (elapsed time in seconds: ${seconds(Date.now() - started)})`);
      return { ok: true };
    }
    env.log(`Step ID: ${step.id} marked as failed (elapsed time in seconds: ${seconds(Date.now() - started)}). Error: ${message}`);
    return { ok: false, message };
  } finally {
    clearTimeout(timer);
  }
}

async function perform(step: TaskStep, env: StepEnvironment, signal: AbortSignal): Promise<void> {
  if (step.kind === 'push') {
    await withOutput(env, async (output) => {
      for (const image of step.push) {
        env.log(`Pushing image: ${image}, attempt 1`);
        const { digest } = await env.session.push(image, output, signal);
        env.pushed(image, digest);
      }
    });
    return;
  }
  for (let execution = 0; execution <= step.repeat; execution++) {
    if (execution > 0) env.log(`Repeating step ID: ${step.id} (execution ${execution + 1} of ${step.repeat + 1})`);
    await withRetries(step, env, signal, () =>
      withOutput(env, (output) => (step.kind === 'build' ? build(step, env, output, signal) : command(step, step.cmd, env, output, signal))),
    );
  }
}

async function withOutput<T>(env: StepEnvironment, work: (output: StepOutputStream) => Promise<T>): Promise<T> {
  const output = env.output();
  try {
    return await work(output);
  } finally {
    output.end();
  }
}

async function withRetries(step: TaskStep & ContainerStepOptions, env: StepEnvironment, signal: AbortSignal, attempt: () => Promise<void>): Promise<void> {
  for (let tried = 0; ; tried++) {
    try {
      await attempt();
      return;
    } catch (error) {
      if (signal.aborted || tried >= step.retries || !retriable(step, error)) throw error;
      env.log(`Step ID: ${step.id} failed (${messageOf(error)}); retrying in ${step.retryDelaySeconds}s (retry ${tried + 1} of ${step.retries})`);
      await sleep(step.retryDelaySeconds * 1000, undefined, { signal });
    }
  }
}

function retriable(step: ContainerStepOptions, error: unknown): boolean {
  if (!step.retryOnErrors || step.retryOnErrors.length === 0) return true;
  const message = messageOf(error);
  return step.retryOnErrors.some((text) => message.includes(text));
}

async function build(step: Extract<TaskStep, { kind: 'build' }>, env: StepEnvironment, output: StepOutput, signal: AbortSignal): Promise<void> {
  const spec = step.build;
  const platform = spec.platform ?? env.platform;
  await env.session.build(
    {
      context: spec.context,
      dockerfile: spec.dockerfile,
      tags: spec.tags,
      buildArgs: spec.buildArgs,
      ...(spec.target !== undefined ? { target: spec.target } : {}),
      ...(platform !== undefined ? { platform } : {}),
      noCache: spec.noCache,
      pull: spec.pull || step.pull,
      labels: spec.labels,
      env: step.env,
    },
    output,
    signal,
  );
}

async function command(step: Extract<TaskStep, { kind: 'cmd' }>, cmd: CmdSpec, env: StepEnvironment, output: StepOutput, signal: AbortSignal): Promise<void> {
  switch (cmd.type) {
    case 'pull':
      await env.session.pull(cmd.image, output, signal);
      return;
    case 'tag':
      await env.session.tag(cmd.source, cmd.target);
      return;
    case 'push': {
      const { digest } = await env.session.push(cmd.image, output, signal);
      env.pushed(cmd.image, digest);
      return;
    }
    case 'host': {
      const exitCode = await env.host.run(cmd.program, cmd.args, env.hostContext, output, signal);
      checkExitCode(step, exitCode);
      return;
    }
    case 'container': {
      if (step.cmdDownloadRetries !== undefined && step.cmdDownloadRetries > 0) await pullWithRetries(step, cmd.image, env, output, signal);
      const request = containerRequest(step, cmd, env);
      const { exitCode } = await env.session.run(request, output, signal);
      if (!request.detach) checkExitCode(step, exitCode);
      return;
    }
  }
}

async function pullWithRetries(step: ContainerStepOptions & { id: string }, image: string, env: StepEnvironment, output: StepOutput, signal: AbortSignal): Promise<void> {
  const retries = step.cmdDownloadRetries ?? 0;
  for (let tried = 0; ; tried++) {
    try {
      await env.session.pull(image, output, signal);
      return;
    } catch (error) {
      if (signal.aborted || tried >= retries) throw error;
      const delay = step.cmdDownloadRetryDelaySeconds ?? 5;
      env.log(`Pulling ${image} for step ID: ${step.id} failed (${messageOf(error)}); retrying in ${delay}s`);
      await sleep(delay * 1000, undefined, { signal });
    }
  }
}

function containerRequest(step: Extract<TaskStep, { kind: 'cmd' }>, cmd: Extract<CmdSpec, { type: 'container' }>, env: StepEnvironment): ContainerRequest {
  const detach = step.detach || cmd.run.detach;
  const entryPoint = cmd.run.entryPoint ?? step.entryPoint;
  const user = cmd.run.user ?? step.user;
  const workingDirectory =
    cmd.run.workingDirectory ?? step.workingDirectory ?? (step.disableWorkingDirectoryOverride ? undefined : env.taskFile.workingDirectory);
  return {
    image: cmd.image,
    args: cmd.args,
    name: step.id,
    env: [...step.env, ...cmd.run.env],
    ...(entryPoint !== undefined ? { entryPoint } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(workingDirectory !== undefined ? { workingDirectory } : {}),
    ports: [...step.ports, ...cmd.run.ports],
    detach,
    ...(detach && env.detachedOwner !== null ? { outlivesRun: { owner: env.detachedOwner } } : {}),
    privileged: step.privileged,
    pull: step.pull,
    ...(step.cpus !== undefined ? { cpus: step.cpus } : {}),
    volumes: step.volumeMounts.map((mount) => ({ hostPath: env.volumePath(mount.name), containerPath: mount.mountPath, readOnly: true })),
  };
}

/**
 * Exit code 0 succeeds; `exitedWith` lists the codes that succeed instead, and `exitedWithout` the
 * codes that fail (any other code then succeeds).
 */
function checkExitCode(step: ContainerStepOptions & { id: string }, exitCode: number): void {
  const withList = step.exitedWith ?? [];
  const withoutList = step.exitedWithout ?? [];
  const accepted = withList.length > 0 ? withList.includes(exitCode) : withoutList.length > 0 || exitCode === 0;
  if (accepted && !withoutList.includes(exitCode)) return;
  throw new StepError(`step ${step.id} exited with status ${exitCode}`, exitCode);
}
