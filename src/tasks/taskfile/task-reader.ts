/** The parsed, rendered task file into the TaskFile model (ACR's defaults and rules). */
import { isMap } from 'yaml';
import type { TaskFile, TaskNetwork, TaskStep, TaskVolume } from '../model.ts';
import type { AliasDefinitions } from './aliases.ts';
import { resolveDependencies, type StepLinks } from './dependencies.ts';
import { readEnvironment } from './environment.ts';
import { readSecrets } from './secrets-section.ts';
import { readStep } from './step-reader.ts';
import type { MapFields, YamlContext } from './yaml-fields.ts';

export const TOP_LEVEL_PROPERTIES = ['version', 'stepTimeout', 'workingDirectory', 'env', 'secrets', 'networks', 'volumes', 'alias', 'steps'] as const;
export const TASK_FILE_VERSIONS = ['1.0-preview-1', 'v1.0.0', 'v1.1.0'] as const;
const DEFAULT_VERSION = 'v1.0.0';
const DEFAULT_STEP_TIMEOUT_SECONDS = 600;
const VOLUME_NAME = /^[A-Za-z0-9_-]+$/;
const VOLUME_FILE_NAME = /^[A-Za-z0-9_.-]+$/;
const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

export interface TaskReadOptions {
  defaultWorkingDirectory: string;
  aliases: AliasDefinitions;
  aliasesEnabled: boolean;
}

/** Builds the model; errors and warnings go to `ctx.issues` (the model is meaningful only without errors). */
export function readTaskFile(ctx: YamlContext, options: TaskReadOptions): TaskFile | undefined {
  const root = ctx.resolve(ctx.doc.contents);
  if (!isMap(root)) {
    ctx.issues.error(ctx.lineOf(root, 1), "a task file is a mapping with at least a 'steps' list");
    return undefined;
  }
  const fields = ctx.fields(root, TOP_LEVEL_PROPERTIES, ctx.lineOf(root, 1));

  const version = readVersion(ctx, fields);
  const configuredTimeout = fields.int('stepTimeout') ?? 0;
  const stepTimeoutSeconds = configuredTimeout > 0 ? configuredTimeout : DEFAULT_STEP_TIMEOUT_SECONDS;
  const workingDirectory = fields.string('workingDirectory') || options.defaultWorkingDirectory;
  const env = readEnvironment(ctx, fields);
  const secrets = readSecrets(ctx, fields);
  const volumes = readVolumes(ctx, fields);
  const networks = readNetworks(ctx, fields);
  if (fields.has('alias') && !options.aliasesEnabled) {
    ctx.issues.warn(fields.keyLine('alias'), "'alias' needs 'version: v1.1.0'; aliases are not replaced in this file");
  }

  const stepNodes = fields.maps('steps');
  if (!fields.present('steps')) ctx.issues.error(fields.keyLine('steps'), "'steps' is required and needs at least one step");
  else if (stepNodes?.length === 0) ctx.issues.error(fields.keyLine('steps'), "'steps' needs at least one step");

  const defaults = {
    taskEnv: env,
    stepTimeoutSeconds,
    workingDirectory,
    volumeNames: new Set(volumes.map((volume) => volume.name)),
    aliases: options.aliases,
  };
  const read = (stepNodes ?? []).map(({ value, line }, index) => readStep(ctx, value, line, index, defaults));
  const links = read.map((entry) => entry.links);
  reportDuplicateIds(ctx, links);
  const dependsOn = resolveDependencies(links, ctx.issues);

  const steps: TaskStep[] = [];
  read.forEach((entry, index) => {
    if (entry.step) steps.push({ ...entry.step, dependsOn: dependsOn[index] ?? [] });
  });
  return { version, stepTimeoutSeconds, workingDirectory, env, secrets, volumes, networks, steps, warnings: ctx.issues.warnings };
}

function readVersion(ctx: YamlContext, fields: MapFields): string {
  const written = fields.string('version');
  if (written === undefined) return DEFAULT_VERSION;
  const known = TASK_FILE_VERSIONS.find((version) => version === written.toLowerCase());
  if (known) return known;
  ctx.issues.error(fields.keyLine('version'), `invalid version '${written}' (valid: ${TASK_FILE_VERSIONS.join(', ')})`);
  return written;
}

function reportDuplicateIds(ctx: YamlContext, links: StepLinks[]): void {
  const firstLine = new Map<string, number>();
  for (const { id, line } of links) {
    const first = firstLine.get(id);
    if (first === undefined) firstLine.set(id, line);
    else ctx.issues.error(line, `duplicate step id '${id}' (first on line ${first})`);
  }
}

function readVolumes(ctx: YamlContext, fields: MapFields): TaskVolume[] {
  const volumes: TaskVolume[] = [];
  for (const { value: node, line } of fields.maps('volumes') ?? []) {
    const volume = ctx.fields(node, ['name', 'secret'], line);
    const name = volume.string('name');
    if (!name) ctx.issues.error(line, "a volume needs a 'name'");
    else if (!VOLUME_NAME.test(name)) ctx.issues.error(volume.keyLine('name'), `volume name '${name}' may contain only letters, digits, '-' and '_'`);
    else if (volumes.some((other) => other.name === name)) ctx.issues.error(volume.keyLine('name'), `duplicate volume name '${name}'`);

    const files = volume.stringMap('secret') ?? [];
    if (!volume.present('secret')) ctx.issues.error(line, "a volume needs a 'secret' mapping of file names to base64 content");
    else if (files.length === 0 && isMap(volume.node('secret'))) ctx.issues.error(volume.keyLine('secret'), "'secret' needs at least one file");
    const secret: Record<string, string> = {};
    for (const { value: [file, content], line: fileLine } of files) {
      if (!VOLUME_FILE_NAME.test(file)) ctx.issues.error(fileLine, `file name '${file}' may contain only letters, digits, '-', '_' and '.'`);
      else if (!BASE64.test(content)) ctx.issues.error(fileLine, `the content of '${file}' must be base64-encoded`);
      else secret[file] = content;
    }
    if (name) volumes.push({ name, secret });
  }
  return volumes;
}

function readNetworks(ctx: YamlContext, fields: MapFields): TaskNetwork[] {
  const networks: TaskNetwork[] = [];
  for (const { value: node, line } of fields.maps('networks') ?? []) {
    const entry = ctx.fields(node, ['name', 'driver', 'ipv6', 'skipCreation', 'isDefault'], line);
    const name = entry.string('name');
    if (!name) {
      ctx.issues.error(line, "a network needs a 'name'");
      continue;
    }
    const network: TaskNetwork = {
      name,
      ipv6: entry.bool('ipv6') ?? false,
      skipCreation: entry.bool('skipCreation') ?? false,
      isDefault: entry.bool('isDefault') ?? false,
    };
    const driver = entry.string('driver');
    if (driver !== undefined) network.driver = driver;
    if ((driver !== undefined && driver !== 'bridge') || network.isDefault) {
      ctx.issues.warn(line, `network '${name}' is not used: each step runs in its own network namespace here`);
    }
    networks.push(network);
  }
  return networks;
}
