/**
 * Where task steps run. The run engine speaks only this interface; the first driver uses
 * Debian's buildah (builds, `--isolation chroot`) and podman (containers, each in its own
 * network namespace). Every run gets a private session: its own image storage, working
 * directory and shared volume, removed when the session closes.
 */

/** How the session reaches a registry. */
export interface RegistryEndpoint {
  /** e.g. `contoso.localhost:5000`. */
  loginServer: string;
  /** Plain HTTP (Berth on loopback without TLS). */
  insecure: boolean;
  /** PEM CA bundle that signs the registry's certificate (Berth's self-signed CA). */
  caFile?: string;
  /** The address the host reaches it at (for `--add-host` inside step containers), e.g. 127.0.0.1. */
  hostAddress?: string;
}

export interface RegistryCredential {
  loginServer: string;
  username: string;
  password: string;
}

export interface SessionSpec {
  /** Unique per run across the installation, e.g. `contoso-ca1`. */
  key: string;
  /** The run's build context, already fetched and unpacked on the host (copied into the session). */
  contextDir: string | undefined;
  /** Berth's own registries (and any other known endpoint) and how to reach them. */
  registries: RegistryEndpoint[];
  /** Injected into the session's auth file: the run credential for its own registry first, then the task's credential set. */
  credentials: RegistryCredential[];
  /** Platform to build for, `os/arch[/variant]`; undefined = the host's. */
  platform?: string;
}

/** Where a step's output goes; each call is a chunk of the combined stdout/stderr stream. */
export interface StepOutput {
  write(chunk: string): void;
}

export interface BuildRequest {
  /** Context folder, relative to the session's working directory. */
  context: string;
  dockerfile: string;
  tags: string[];
  buildArgs: Array<[string, string]>;
  target?: string;
  platform?: string;
  noCache: boolean;
  pull: boolean;
  labels: Array<[string, string]>;
  env: string[];
}

export interface ContainerRequest {
  image: string;
  args: string[];
  /** Name unique within the session (the step id); also the container's host name. */
  name: string;
  env: string[];
  entryPoint?: string;
  user?: string;
  /** Default: the session's working directory, mounted at `/workspace`. */
  workingDirectory?: string;
  ports: string[];
  /** Keep running after this call returns (and, with `outlivesRun`, after the session closes). */
  detach: boolean;
  /** A detached container that stays up after the run, until replaced or stopped (see `stopDetached`). */
  outlivesRun?: { owner: string };
  privileged: boolean;
  pull: boolean;
  cpus?: string;
  volumes: Array<{ hostPath: string; containerPath: string; readOnly: boolean }>;
}

export interface ContainerResult {
  exitCode: number;
}

export interface PushResult {
  /** The pushed manifest's digest. */
  digest: string;
}

export interface ExecutorSession {
  /** Host path of the run's working directory (the shared volume, `/workspace` in containers). */
  readonly workDir: string;
  /** Builds and stores the image locally under every tag (not pushed). Throws `StepError` when the build fails. */
  build(request: BuildRequest, output: StepOutput, signal: AbortSignal): Promise<void>;
  /** Runs a container to its exit (or until started, when detached). A non-zero exit is a result, not an error. */
  run(request: ContainerRequest, output: StepOutput, signal: AbortSignal): Promise<ContainerResult>;
  pull(image: string, output: StepOutput, signal: AbortSignal): Promise<void>;
  tag(source: string, target: string): Promise<void>;
  push(image: string, output: StepOutput, signal: AbortSignal): Promise<PushResult>;
  /** Stops the session's containers (detached ones that outlive the run excepted) and removes its storage and files. */
  close(): Promise<void>;
}

export interface Executor {
  /** The platform steps run on, `linux/amd64` style. */
  readonly hostPlatform: string;
  open(spec: SessionSpec): Promise<ExecutorSession>;
  /** Stops and removes the detached containers a run left for `owner` (a task), if any; returns how many. */
  stopDetached(owner: string): Promise<number>;
  /** Removes leftovers of sessions that a crash left behind (called once at start-up). */
  cleanUp(): Promise<void>;
}

/** A step failed in a way the step's log explains; `message` is one line for the run's error. */
export class StepError extends Error {
  constructor(
    message: string,
    readonly exitCode?: number,
  ) {
    super(message);
    this.name = 'StepError';
  }
}
