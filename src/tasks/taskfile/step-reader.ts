/**
 * One entry of `steps:` into a TaskStep (without its `dependsOn`, which needs every step):
 * ACR's defaults applied, its rules checked, and the properties Berth cannot honour turned
 * into warnings.
 */
import type { YAMLMap } from 'yaml';
import type { ContainerStepOptions, TaskStep, VolumeMount } from '../model.ts';
import type { AliasDefinitions } from './aliases.ts';
import { expandCommandAlias } from './aliases.ts';
import { parseBuildArguments } from './build-arguments.ts';
import { parseCmdLine } from './cmd-line.ts';
import type { StepLinks } from './dependencies.ts';
import { mergeEnvironment, readEnvironment } from './environment.ts';
import { CommandLineError } from './shell-words.ts';
import type { MapFields, YamlContext } from './yaml-fields.ts';

const STEP_PROPERTIES = [
  'id', 'build', 'cmd', 'push', 'when', 'detach', 'disableWorkingDirectoryOverride', 'entryPoint', 'env', 'expose',
  'ports', 'network', 'isolation', 'keep', 'privileged', 'pull', 'user', 'workingDirectory', 'ignoreErrors', 'repeat',
  'retries', 'retryDelay', 'startDelay', 'timeout', 'secret', 'volumeMounts', 'cpus', 'cache', 'exitedWith',
  'exitedWithout', 'retryOnErrors', 'cmdDownloadRetries', 'cmdDownloadRetryDelay',
] as const;

const STEP_TYPES = ['build', 'cmd', 'push'] as const;

/** Properties of steps that run a container; a push step has none of them. */
const CONTAINER_PROPERTIES = [
  'detach', 'disableWorkingDirectoryOverride', 'entryPoint', 'expose', 'ports', 'network', 'isolation', 'keep',
  'privileged', 'pull', 'user', 'workingDirectory', 'repeat', 'retries', 'retryDelay', 'cpus', 'cache', 'exitedWith',
  'exitedWithout', 'retryOnErrors', 'cmdDownloadRetries', 'cmdDownloadRetryDelay',
] as const;

const CMD_ONLY_PROPERTIES = ['exitedWith', 'exitedWithout', 'cmdDownloadRetries', 'cmdDownloadRetryDelay'] as const;

const RESERVED_ID = 'acb_root';
const DEFAULT_NETWORK = 'acb_default_network';
/** ACR's runner waits 5 s between retries when `retryDelay` is not above 0. */
const DEFAULT_RETRY_DELAY_SECONDS = 5;

type StepCommonFields = Pick<TaskStep, 'id' | 'line' | 'dependsOn' | 'env' | 'ignoreErrors' | 'startDelaySeconds' | 'timeoutSeconds'>;

export interface StepDefaults {
  taskEnv: string[];
  stepTimeoutSeconds: number;
  workingDirectory: string;
  volumeNames: Set<string>;
  aliases: AliasDefinitions;
}

export interface ReadStep {
  links: StepLinks;
  /** Absent when the step is too broken to build (its errors are recorded). */
  step?: TaskStep;
}

export function readStep(ctx: YamlContext, node: YAMLMap, line: number, index: number, defaults: StepDefaults): ReadStep {
  const fields = ctx.fields(node, STEP_PROPERTIES, line);
  const id = readId(ctx, fields, index);
  const when = fields.stringItems('when');
  const links: StepLinks = when ? { id, line, when } : { id, line };

  const env = mergeEnvironment(defaults.taskEnv, readEnvironment(ctx, fields));
  const timeout = fields.int('timeout');
  const common: StepCommonFields = {
    id,
    line,
    dependsOn: [],
    env,
    ignoreErrors: fields.bool('ignoreErrors') ?? false,
    startDelaySeconds: fields.int('startDelay') ?? 0,
    timeoutSeconds: timeout !== undefined && timeout > 0 ? timeout : defaults.stepTimeoutSeconds,
  };
  if (fields.has('secret')) {
    ctx.issues.warn(fields.keyLine('secret'), "step property 'secret' is not supported here and is ignored; declare top-level 'secrets' and use {{.Secrets.<id>}}");
  }

  const types = STEP_TYPES.filter((name) => fields.has(name));
  const [type] = types;
  if (type === undefined || types.length > 1) {
    const message = types.length === 0
      ? "a step needs one of 'build', 'cmd' or 'push'"
      : `a step must only contain a single build, cmd, or push property (found ${types.map((type) => `'${type}'`).join(', ')})`;
    ctx.issues.error(line, message);
    readContainerOptions(ctx, fields, undefined, defaults);
    return { links };
  }

  if (type === 'push') return { links, step: readPushStep(ctx, fields, common) };
  const options = readContainerOptions(ctx, fields, type, defaults);
  if (type === 'build') {
    const build = readCommandLine(ctx, fields, 'build', (text) => parseBuildArguments(text, env));
    return build ? { links, step: { ...common, ...options, kind: 'build', build } } : { links };
  }
  const cmd = readCommandLine(ctx, fields, 'cmd', (text) => {
    const expanded = expandCommandAlias(text, defaults.aliases);
    const parsed = parseCmdLine(expanded.cmd);
    return { spec: parsed.spec, warnings: expanded.warning ? [expanded.warning, ...parsed.warnings] : parsed.warnings };
  });
  return cmd ? { links, step: { ...common, ...options, kind: 'cmd', cmd } } : { links };
}

function readId(ctx: YamlContext, fields: MapFields, index: number): string {
  const id = fields.string('id');
  if (id === undefined) return `acb_step_${index}`;
  const line = fields.keyLine('id');
  if (id === '') ctx.issues.error(line, "'id' cannot be empty");
  else if (/\s/.test(id)) ctx.issues.error(line, `step id '${id}' cannot contain spaces`);
  else if (id === RESERVED_ID) ctx.issues.error(line, `step id '${RESERVED_ID}' is reserved`);
  return id;
}

/** Parses a `build:` or `cmd:` value, recording its error or warnings on the property's line. */
function readCommandLine<Spec>(
  ctx: YamlContext,
  fields: MapFields,
  name: 'build' | 'cmd',
  parse: (text: string) => { spec: Spec; warnings: string[] },
): Spec | undefined {
  const line = fields.keyLine(name);
  const text = fields.string(name);
  if (text === undefined) {
    if (!fields.present(name)) ctx.issues.error(line, `'${name}' cannot be empty`);
    return undefined;
  }
  try {
    const { spec, warnings } = parse(text);
    for (const warning of warnings) ctx.issues.warn(line, warning);
    return spec;
  } catch (error) {
    if (!(error instanceof CommandLineError)) throw error;
    ctx.issues.error(line, `${name}: ${error.message}`);
    return undefined;
  }
}

function readPushStep(ctx: YamlContext, fields: MapFields, common: StepCommonFields): TaskStep | undefined {
  for (const name of CONTAINER_PROPERTIES) {
    if (fields.has(name)) ctx.issues.warn(fields.keyLine(name), `'${name}' has no effect on a push step and is ignored`);
  }
  if (fields.has('volumeMounts')) ctx.issues.error(fields.keyLine('volumeMounts'), "'volumeMounts' can only be used in build and cmd steps");

  const items = fields.stringItems('push', true);
  if (items === undefined) {
    if (!fields.present('push')) ctx.issues.error(fields.keyLine('push'), "'push' needs at least one image");
    return undefined;
  }
  if (items.length === 0) ctx.issues.error(fields.keyLine('push'), "'push' needs at least one image");
  const images: string[] = [];
  for (const { value, line } of items) {
    const image = value.trim();
    if (image === '' || /\s/.test(image)) ctx.issues.error(line, `'${value}' is not an image name`);
    else if (!images.includes(withDefaultTag(image))) images.push(withDefaultTag(image));
  }
  return { ...common, kind: 'push', push: images };
}

/** `repo` → `repo:latest`, as ACR's runner normalises pushed names (a digest or tag stays). */
function withDefaultTag(image: string): string {
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  return image.includes('@') || lastSegment.includes(':') ? image : `${image}:latest`;
}

/** The container settings; with `type` undefined (a step of no valid type) only their own errors are recorded. */
function readContainerOptions(ctx: YamlContext, fields: MapFields, type: 'build' | 'cmd' | undefined, defaults: StepDefaults): ContainerStepOptions {
  const retryDelay = fields.int('retryDelay') ?? 0;
  const options: ContainerStepOptions = {
    detach: fields.bool('detach') ?? false,
    ports: (fields.stringItems('ports') ?? []).map((item) => item.value),
    expose: (fields.stringItems('expose') ?? []).map((item) => item.value),
    keep: fields.bool('keep') ?? false,
    privileged: fields.bool('privileged') ?? false,
    pull: fields.bool('pull') ?? false,
    workingDirectory: fields.string('workingDirectory') || defaults.workingDirectory,
    disableWorkingDirectoryOverride: fields.bool('disableWorkingDirectoryOverride') ?? false,
    repeat: fields.int('repeat') ?? 0,
    retries: fields.int('retries') ?? 0,
    retryDelaySeconds: retryDelay > 0 ? retryDelay : DEFAULT_RETRY_DELAY_SECONDS,
    volumeMounts: readVolumeMounts(ctx, fields, defaults.volumeNames),
  };
  const optional = {
    entryPoint: fields.string('entryPoint'),
    network: fields.string('network'),
    user: fields.string('user'),
    cpus: fields.string('cpus'),
    isolation: fields.string('isolation'),
    cache: readCache(ctx, fields),
    exitedWith: fields.ints('exitedWith'),
    exitedWithout: fields.ints('exitedWithout'),
    retryOnErrors: fields.stringItems('retryOnErrors')?.map((item) => item.value),
    cmdDownloadRetries: fields.int('cmdDownloadRetries'),
    cmdDownloadRetryDelaySeconds: fields.int('cmdDownloadRetryDelay'),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) Object.assign(options, { [key]: value });
  }
  if (type) warnAboutContainerOptions(ctx, fields, type, options);
  return options;
}

function readCache(ctx: YamlContext, fields: MapFields): 'enabled' | 'disabled' | undefined {
  const cache = fields.string('cache')?.toLowerCase();
  if (cache === undefined || cache === 'enabled' || cache === 'disabled') return cache;
  ctx.issues.error(fields.keyLine('cache'), "'cache' must be 'enabled' or 'disabled'");
  return undefined;
}

function warnAboutContainerOptions(ctx: YamlContext, fields: MapFields, type: 'build' | 'cmd', options: ContainerStepOptions): void {
  const warn = (name: string, message: string): void => ctx.issues.warn(fields.keyLine(name), message);
  if (options.isolation !== undefined && options.isolation !== 'default') {
    warn('isolation', `'isolation: ${options.isolation}' is for Windows containers and is ignored here`);
  }
  if (options.network !== undefined && options.network !== DEFAULT_NETWORK) {
    warn('network', `the step does not join network '${options.network}': each step runs in its own network namespace here`);
  }
  if (type === 'build' && options.cache === 'enabled') {
    warn('cache', "'cache: enabled' (a registry build cache) is not supported here; the step builds without it");
  }
  if (type === 'cmd' && fields.has('cache')) warn('cache', "'cache' applies only to build steps and is ignored");
  if (type === 'build') {
    for (const name of CMD_ONLY_PROPERTIES) {
      if (fields.has(name)) warn(name, `'${name}' applies only to cmd steps and is ignored`);
    }
  }
}

function readVolumeMounts(ctx: YamlContext, fields: MapFields, volumeNames: Set<string>): VolumeMount[] {
  const mounts: VolumeMount[] = [];
  for (const { value: node, line } of fields.maps('volumeMounts') ?? []) {
    const mount = ctx.fields(node, ['name', 'mountPath'], line);
    const name = mount.string('name');
    const mountPath = mount.string('mountPath');
    if (!name || !mountPath) {
      ctx.issues.error(line, "a volume mount needs both 'name' and 'mountPath'");
      continue;
    }
    if (!volumeNames.has(name)) ctx.issues.error(mount.keyLine('name'), `volume mount names volume '${name}', which is not defined in 'volumes'`);
    if (mounts.some((other) => other.mountPath === mountPath)) {
      ctx.issues.error(mount.keyLine('mountPath'), `mount path '${mountPath}' is used twice in this step`);
    }
    mounts.push({ name, mountPath });
  }
  return mounts;
}
