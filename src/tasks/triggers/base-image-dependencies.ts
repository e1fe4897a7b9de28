/**
 * The base images a Dockerfile build starts FROM, as the base-image trigger tracks them. `ARG`s
 * declared before the first `FROM` are substituted (their defaults, overridden by the build's
 * `--build-arg`s, as Docker does); only the stages the build needs are considered (the target,
 * or the last stage, and the stages it uses through `FROM <stage>` and `COPY --from`). The
 * target stage's base is `Runtime`; every other base, including images named by `COPY --from`,
 * is `BuildTime`. `scratch`, stage names, digest-pinned references (they never move) and
 * references that do not resolve are left out. Pure, no I/O.
 */
import { Copy, DockerfileParser, From, type Arg, type Instruction } from 'dockerfile-ast';

export type BaseImageType = 'Runtime' | 'BuildTime';

export interface BaseImageReference {
  /** `docker.io` for Docker Hub; lower case. */
  loginServer: string;
  /** `library/x` for Docker Hub's official images. */
  repository: string;
  tag: string;
  type: BaseImageType;
}

export interface BuildOptions {
  /** `--build-arg` pairs, later ones win. */
  buildArgs?: ReadonlyArray<readonly [string, string]>;
  /** `--target`: the stage built; default the last one. */
  target?: string;
}

interface Stage {
  /** Lower-cased `AS` name. */
  name: string | undefined;
  /** The FROM reference after substitution. */
  base: string;
  /** `COPY --from=` values after substitution. */
  copiesFrom: string[];
}

const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

export function baseImagesOf(dockerfile: string, options: BuildOptions = {}): BaseImageReference[] {
  const parsed = DockerfileParser.parse(dockerfile);
  const args = globalArgs(parsed.getInitialARGs(), options.buildArgs ?? []);
  const stages = stagesOf(parsed.getInstructions(), args);
  if (stages.length === 0) return [];

  const stageIndex = (reference: string, before: number): number | undefined => {
    const lower = reference.toLowerCase();
    const byName = stages.findIndex((stage, index) => index < before && stage.name === lower);
    if (byName >= 0) return byName;
    return /^\d+$/.test(reference) && Number(reference) < before ? Number(reference) : undefined;
  };
  const target = options.target === undefined ? stages.length - 1 : stageIndex(options.target, stages.length);
  if (target === undefined) return [];

  const found = new Map<string, BaseImageReference>();
  const add = (reference: string, type: BaseImageType) => {
    const image = normaliseImageReference(reference);
    if (image === undefined) return;
    const key = `${image.loginServer}/${image.repository}:${image.tag}`;
    if (found.get(key)?.type !== 'Runtime') found.set(key, { ...image, type });
  };

  // The target's runtime base: its FROM, followed through stages until an image.
  let runtime = target;
  for (let parent = stageIndex(stages[runtime]!.base, runtime); parent !== undefined; parent = stageIndex(stages[runtime]!.base, runtime)) runtime = parent;
  add(stages[runtime]!.base, 'Runtime');

  const needed = new Set<number>();
  const pending = [target];
  while (pending.length > 0) {
    const index = pending.pop()!;
    if (needed.has(index)) continue;
    needed.add(index);
    for (const reference of [stages[index]!.base, ...stages[index]!.copiesFrom]) {
      const stage = stageIndex(reference, index);
      if (stage === undefined) add(reference, 'BuildTime');
      else pending.push(stage);
    }
  }
  return [...found.values()];
}

/**
 * `[host/]repository[:tag]` with Docker's defaults: no host → `docker.io` (one-part names under
 * `library/`), no tag → `latest`. Undefined for `scratch`, digest-pinned references and anything
 * that is not a plain reference (e.g. an ARG left unresolved).
 */
export function normaliseImageReference(reference: string): Omit<BaseImageReference, 'type'> | undefined {
  const value = reference.trim();
  if (value === '' || value.toLowerCase() === 'scratch' || value.includes('@') || value.includes('$')) return undefined;
  const slash = value.indexOf('/');
  const first = slash >= 0 ? value.slice(0, slash) : '';
  const hasHost = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let loginServer = hasHost ? first.toLowerCase() : DOCKER_HUB;
  let path = hasHost ? value.slice(slash + 1) : value;
  const colon = path.lastIndexOf(':');
  const tag = colon >= 0 ? path.slice(colon + 1) : 'latest';
  path = colon >= 0 ? path.slice(0, colon) : path;
  if (DOCKER_HUB_ALIASES.has(loginServer)) {
    loginServer = DOCKER_HUB;
    if (!path.includes('/')) path = `library/${path}`;
  }
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(path)) return undefined;
  if (!/^\w[\w.-]{0,127}$/.test(tag)) return undefined;
  return { loginServer, repository: path, tag };
}

/** Name → value of the ARGs before the first FROM; a build arg overrides only a declared ARG. */
function globalArgs(declared: Arg[], buildArgs: ReadonlyArray<readonly [string, string]>): Map<string, string> {
  const overrides = new Map(buildArgs.map(([name, value]) => [name, value]));
  const values = new Map<string, string>();
  for (const arg of declared) {
    const property = arg.getProperty();
    if (!property) continue;
    const name = property.getName();
    const value = overrides.get(name) ?? (property.getValue() === null ? undefined : substitute(property.getValue()!, values));
    if (value !== undefined) values.set(name, value);
    else values.delete(name);
  }
  return values;
}

function stagesOf(instructions: Instruction[], args: Map<string, string>): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction instanceof From) {
      stages.push({ name: instruction.getBuildStage()?.toLowerCase(), base: substitute(instruction.getImage() ?? '', args), copiesFrom: [] });
      continue;
    }
    const copiedFrom = instruction instanceof Copy ? instruction.getFromFlag()?.getValue() : undefined;
    if (copiedFrom) stages.at(-1)?.copiesFrom.push(substitute(copiedFrom, args));
  }
  return stages;
}

/**
 * Shell-style expansion as Dockerfiles have it: `$X`, `${X}`, `${X:-word}`, `${X-word}`,
 * `${X:+word}`, `${X+word}`. An unknown variable is left in place, so the reference is seen as
 * unresolved rather than silently shortened.
 */
function substitute(text: string, values: Map<string, string>): string {
  return text.replace(/\$(?:\{(\w+)(?:(:?[-+])([^}]*))?\}|(\w+))/g, (whole: string, braced?: string, operator?: string, word?: string, bare?: string) => {
    const name = (braced ?? bare)!;
    const value = values.get(name);
    switch (operator) {
      case ':-':
        return value === undefined || value === '' ? word! : value;
      case '-':
        return value ?? word!;
      case ':+':
        return value === undefined || value === '' ? '' : word!;
      case '+':
        return value === undefined ? '' : word!;
      default:
        return value ?? whole;
    }
  });
}
