/**
 * Reads a `build:` step's value, written as `docker build` arguments
 * (`-t img:tag -f Dockerfile --build-arg K=V <context>`), into a BuildSpec.
 */
import type { BuildSpec } from '../model.ts';
import { CommandLineError, splitShellWords } from './shell-words.ts';

type Honoured = 'tag' | 'file' | 'build-arg' | 'target' | 'platform' | 'label' | 'no-cache' | 'pull';

const HONOURED: Record<string, Honoured> = {
  '-t': 'tag',
  '--tag': 'tag',
  '-f': 'file',
  '--file': 'file',
  '--build-arg': 'build-arg',
  '--target': 'target',
  '--platform': 'platform',
  '--label': 'label',
  '--no-cache': 'no-cache',
  '--pull': 'pull',
};

const BOOLEAN_FLAGS = new Set(['--no-cache', '--pull']);

/** Already what every build does here (intermediate containers are always removed). */
const DEFAULT_BEHAVIOUR = new Set(['--rm', '--force-rm']);

/** `docker build` flags that take a value and that Berth's builds do not honour. */
const IGNORED_WITH_VALUE = new Set([
  '--add-host', '--allow', '--annotation', '--attest', '--build-context', '--builder', '--cache-from',
  '--cache-to', '--call', '--cgroup-parent', '-c', '--cpu-shares', '--cpu-period', '--cpu-quota',
  '--cpuset-cpus', '--cpuset-mems', '--iidfile', '--isolation', '-m', '--memory', '--memory-swap',
  '--metadata-file', '--network', '--no-cache-filter', '-o', '--output', '--progress', '--provenance',
  '--sbom', '--secret', '--security-opt', '--shm-size', '--ssh', '--ulimit',
]);

/** `docker build` switches that Berth's builds do not honour. */
const IGNORED_SWITCHES = new Set([
  '-q', '--quiet', '--squash', '--compress', '--load', '--push', '--disable-content-trust', '--check', '--debug',
]);

export interface BuildArgumentsResult {
  spec: BuildSpec;
  warnings: string[];
}

/**
 * Parses a `build:` line. A bare `--build-arg K` takes K's value from `environment` (the
 * step's `K=V` list) as `docker build` takes it from its own environment. Flags Berth does not
 * honour become warnings; a line that cannot build (no context, a flag without its value)
 * throws CommandLineError.
 */
export function parseBuildArguments(line: string, environment: string[] = []): BuildArgumentsResult {
  const spec: BuildSpec = { tags: [], dockerfile: 'Dockerfile', buildArgs: [], noCache: false, pull: false, labels: [], context: '' };
  const warnings: string[] = [];
  const positional: string[] = [];
  const words = splitShellWords(line);

  for (let index = 0; index < words.length; index++) {
    const word = words[index] ?? '';
    if (word === '--') {
      positional.push(...words.slice(index + 1));
      break;
    }
    if (!word.startsWith('-') || word === '-') {
      positional.push(word);
      continue;
    }
    const { flag, inlineValue } = splitFlag(word);
    const takeValue = (): string => {
      if (inlineValue !== undefined) return inlineValue;
      const next = words[index + 1];
      if (next === undefined) throw new CommandLineError(`build flag '${flag}' needs a value`);
      index++;
      return next;
    };

    const honoured = HONOURED[flag];
    if (honoured !== undefined && BOOLEAN_FLAGS.has(flag)) {
      const enabled = parseSwitch(flag, inlineValue);
      if (honoured === 'no-cache') spec.noCache = enabled;
      else spec.pull = enabled;
    } else if (honoured !== undefined) {
      applyValue(spec, honoured, takeValue(), environment, warnings);
    } else if (DEFAULT_BEHAVIOUR.has(flag)) {
      continue;
    } else if (IGNORED_WITH_VALUE.has(flag)) {
      warnings.push(`build flag '${flag} ${takeValue()}' is not supported here and is ignored`);
    } else if (IGNORED_SWITCHES.has(flag)) {
      warnings.push(`build flag '${flag}' is not supported here and is ignored`);
    } else {
      warnings.push(`unknown build flag '${word}' is ignored`);
    }
  }

  if (positional.length === 0) throw new CommandLineError("the build context is missing (for the current folder write '.')");
  if (positional.length > 1) {
    const listed = positional.map((word) => `'${word}'`).join(', ');
    throw new CommandLineError(`a build takes one context, found ${listed} (is a flag before them missing, or one that takes a value unknown?)`);
  }
  spec.context = positional[0] ?? '.';
  return { spec, warnings };
}

/** `--flag=value`, `-tvalue` and `-t=value` forms of the flags that take a value. */
function splitFlag(word: string): { flag: string; inlineValue?: string } {
  if (word.startsWith('--')) {
    const equals = word.indexOf('=');
    return equals < 0 ? { flag: word } : { flag: word.slice(0, equals), inlineValue: word.slice(equals + 1) };
  }
  if (word.length > 2) {
    const rest = word.slice(2);
    return { flag: word.slice(0, 2), inlineValue: rest.startsWith('=') ? rest.slice(1) : rest };
  }
  return { flag: word };
}

function parseSwitch(flag: string, value: string | undefined): boolean {
  if (value === undefined || value === 'true') return true;
  if (value === 'false') return false;
  throw new CommandLineError(`build flag '${flag}' takes true or false, not '${value}'`);
}

function applyValue(spec: BuildSpec, flag: Honoured, value: string, environment: string[], warnings: string[]): void {
  switch (flag) {
    case 'tag':
      spec.tags.push(value);
      return;
    case 'file':
      spec.dockerfile = value;
      return;
    case 'target':
      spec.target = value;
      return;
    case 'platform':
      spec.platform = value;
      return;
    case 'label':
      spec.labels.push(splitPair(value));
      return;
    case 'build-arg': {
      if (value.includes('=')) {
        spec.buildArgs.push(splitPair(value));
        return;
      }
      const fromEnvironment = lookUp(environment, value);
      if (fromEnvironment === undefined) warnings.push(`build arg '${value}' has no value in the step's environment and is not passed`);
      else spec.buildArgs.push([value, fromEnvironment]);
    }
  }
}

function splitPair(value: string): [string, string] {
  const equals = value.indexOf('=');
  return equals < 0 ? [value, ''] : [value.slice(0, equals), value.slice(equals + 1)];
}

/** The value of `name` in a `K=V` list; the last entry wins. */
function lookUp(environment: string[], name: string): string | undefined {
  let found: string | undefined;
  for (const entry of environment) {
    if (entry.startsWith(`${name}=`)) found = entry.slice(name.length + 1);
  }
  return found;
}
