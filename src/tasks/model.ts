/**
 * A task file (`acr-task.yaml`) after template rendering, alias expansion and validation: what
 * the run engine executes. Quick builds and `--cmd` runs are expressed in the same model.
 */

/** A problem the task file parser reports; `line` is 1-based in the file as written. */
export interface TaskFileIssue {
  line: number;
  message: string;
}

export interface TaskSecretReference {
  /** Referenced as `{{.Secrets.<id>}}`. */
  id: string;
  /** `vault://<vault>/<name>` or `https://<vault>.vault.azure.net/secrets/<name>[/<version>]`. */
  keyvault: string;
  clientID?: string;
}

export interface TaskVolume {
  name: string;
  /** File name inside the volume → base64 content (ACR's `secret:` volume source). */
  secret: Record<string, string>;
}

export interface TaskNetwork {
  name: string;
  driver?: string;
  ipv6: boolean;
  skipCreation: boolean;
  isDefault: boolean;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
}

/** Settings of steps that run a container (`build` and `cmd`). */
export interface ContainerStepOptions {
  detach: boolean;
  entryPoint?: string;
  ports: string[];
  expose: string[];
  network?: string;
  keep: boolean;
  privileged: boolean;
  /** Pull the image even if present. */
  pull: boolean;
  user?: string;
  workingDirectory?: string;
  disableWorkingDirectoryOverride: boolean;
  /** Extra executions after the first. */
  repeat: number;
  retries: number;
  retryDelaySeconds: number;
  volumeMounts: VolumeMount[];
  cpus?: string;
  isolation?: string;
  cache?: 'enabled' | 'disabled';
  /** A `cmd` step succeeds only if its exit code is one of these (when given). */
  exitedWith?: number[];
  /** A `cmd` step fails if its exit code is one of these (when given). */
  exitedWithout?: number[];
  retryOnErrors?: string[];
  cmdDownloadRetries?: number;
  cmdDownloadRetryDelaySeconds?: number;
}

interface StepCommon {
  id: string;
  /** 1-based line of the step in the task file (0 for synthesised steps). */
  line: number;
  /** Ids of the steps this one waits for; empty = starts at once (ACR's `when: ["-"]` or the first step). */
  dependsOn: string[];
  /** `K=V` pairs: the task's `env` followed by the step's (later wins). */
  env: string[];
  ignoreErrors: boolean;
  startDelaySeconds: number;
  timeoutSeconds: number;
}

/** What a `build:` line asks for, parsed from its docker-build style arguments. */
export interface BuildSpec {
  /** `-t` image names, in order. */
  tags: string[];
  /** `-f`, relative to the context (default `Dockerfile`). */
  dockerfile: string;
  /** `--build-arg K=V` in order; a bare `--build-arg K` takes K from the step's environment. */
  buildArgs: Array<[string, string]>;
  target?: string;
  platform?: string;
  noCache: boolean;
  pull: boolean;
  labels: Array<[string, string]>;
  /** The build context, relative to the run's working directory (`.` usually). */
  context: string;
}

/**
 * What a `cmd:` line does. Lines starting with `docker pull|tag|push|run` are executed by the
 * executor's own equivalents; `berth …` and `acr …` lines run on the host with the run credential.
 */
export type CmdSpec =
  | { type: 'container'; image: string; args: string[]; run: DockerRunOptions }
  | { type: 'pull'; image: string }
  | { type: 'tag'; source: string; target: string }
  | { type: 'push'; image: string }
  | { type: 'host'; program: 'berth' | 'acr'; args: string[] };

/** The `docker run` flags a `cmd: docker run …` line may carry, merged with the step's own settings. */
export interface DockerRunOptions {
  env: string[];
  ports: string[];
  detach: boolean;
  entryPoint?: string;
  user?: string;
  workingDirectory?: string;
  name?: string;
  remove: boolean;
}

export type TaskStep =
  | (StepCommon & ContainerStepOptions & { kind: 'build'; build: BuildSpec })
  | (StepCommon & ContainerStepOptions & { kind: 'cmd'; cmd: CmdSpec })
  | (StepCommon & { kind: 'push'; push: string[] });

export interface TaskFile {
  version: string;
  stepTimeoutSeconds: number;
  /** Default `/workspace`. */
  workingDirectory: string;
  env: string[];
  secrets: TaskSecretReference[];
  volumes: TaskVolume[];
  networks: TaskNetwork[];
  steps: TaskStep[];
  /** Known properties Berth cannot honour here; the run log shows each one. */
  warnings: TaskFileIssue[];
}

/** The values a task file is rendered with (`{{.Run.X}}`, `{{.Values.X}}`, `{{.Secrets.X}}`). */
export interface RunVariables {
  ID: string;
  Registry: string;
  RegistryName: string;
  /** Run start in UTC, `yyyyMMdd-HHmmssz`. */
  Date: string;
  OS: string;
  OSVersion: string;
  Architecture: string;
  Commit: string;
  Branch: string;
  GitTag: string;
  Repository: string;
  TriggeredBy: string;
  TaskName: string;
  SharedVolume: string;
}

export interface RenderInput {
  run: RunVariables;
  values: Record<string, string>;
  secrets: Record<string, string>;
}
