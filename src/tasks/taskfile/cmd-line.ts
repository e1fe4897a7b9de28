/**
 * Reads a `cmd:` step's value. `docker pull|tag|push|run …` lines become the executor's own
 * operations, `berth …` and `acr …` lines run on the host with the run's credential, and
 * anything else is `<image> [args]`: a container run with the image's entry point.
 */
import type { CmdSpec, DockerRunOptions } from '../model.ts';
import { CommandLineError, splitShellWords } from './shell-words.ts';

export interface CmdLineResult {
  spec: CmdSpec;
  warnings: string[];
}

/** Parses a `cmd:` line; throws CommandLineError when it cannot run here. */
export function parseCmd(line: string): CmdSpec {
  return parseCmdLine(line).spec;
}

/** parseCmd, with the warnings about flags that are accepted but not honoured. */
export function parseCmdLine(line: string): CmdLineResult {
  const [program, ...args] = splitShellWords(line);
  if (program === undefined) throw new CommandLineError("'cmd' is empty");
  if (program === 'berth' || program === 'acr') return { spec: { type: 'host', program, args }, warnings: [] };
  if (program === 'docker') return parseDockerLine(args);
  return { spec: { type: 'container', image: program, args, run: defaultRunOptions() }, warnings: [] };
}

export function defaultRunOptions(): DockerRunOptions {
  return { env: [], ports: [], detach: false, remove: false };
}

interface Flag {
  takesValue: boolean;
  /** Records the flag; `value` is the flag's value, or for a switch its `=true|false` suffix. */
  apply(value: string | undefined): void;
}

type FlagTable = Record<string, Flag>;

const NOT_SUPPORTED: Record<string, string> = {
  login: 'registry logins come from the run credential and the task\'s credentials',
  logout: 'registry logins come from the run credential and the task\'s credentials',
  build: "use a 'build' step",
};

function parseDockerLine(words: string[]): CmdLineResult {
  let [subcommand, ...rest] = words;
  const [nested, ...nestedRest] = rest;
  const isGroup = (subcommand === 'image' && (nested === 'pull' || nested === 'push' || nested === 'tag')) || (subcommand === 'container' && nested === 'run');
  if (isGroup) [subcommand, rest] = [nested, nestedRest];

  const warnings: string[] = [];
  switch (subcommand) {
    case 'pull': {
      const [image] = exactly(1, 'docker pull IMAGE', parseFlags(rest, pullFlags(warnings), 'pull', true));
      return { spec: { type: 'pull', image }, warnings };
    }
    case 'push': {
      const [image] = exactly(1, 'docker push IMAGE', parseFlags(rest, quietFlags(), 'push', true));
      return { spec: { type: 'push', image }, warnings };
    }
    case 'tag': {
      const [source, target] = exactly(2, 'docker tag SOURCE TARGET', parseFlags(rest, {}, 'tag', true));
      return { spec: { type: 'tag', source, target }, warnings };
    }
    case 'run': {
      const run = defaultRunOptions();
      const [image, ...args] = parseFlags(rest, runFlags(run, warnings), 'run', false);
      if (image === undefined) throw new CommandLineError("'docker run' needs an image");
      return { spec: { type: 'container', image, args, run }, warnings };
    }
    case undefined:
      throw new CommandLineError("'docker' needs a command: pull, tag, push or run");
    default: {
      const why = NOT_SUPPORTED[subcommand];
      throw new CommandLineError(`'docker ${subcommand}' is not supported in a cmd step (supported: pull, tag, push, run)${why ? `; ${why}` : ''}`);
    }
  }
}

function exactly<N extends 1 | 2>(count: N, usage: string, positional: string[]): N extends 1 ? [string] : [string, string] {
  if (positional.length !== count) throw new CommandLineError(`expected '${usage}', got ${positional.length} argument(s)`);
  return positional as N extends 1 ? [string] : [string, string];
}

/**
 * Applies the flags in `words` and returns the other words. With `interspersed` false (docker
 * run), the first other word ends the flags: it is the image, and the rest are its arguments.
 */
function parseFlags(words: string[], table: FlagTable, subcommand: string, interspersed: boolean): string[] {
  const positional: string[] = [];
  for (let index = 0; index < words.length; index++) {
    const word = words[index] ?? '';
    if (word === '--') {
      positional.push(...words.slice(index + 1));
      break;
    }
    if (!word.startsWith('-') || word === '-') {
      if (!interspersed) return [...positional, ...words.slice(index)];
      positional.push(word);
      continue;
    }
    const nextValue = (flag: string): string => {
      const next = words[index + 1];
      if (next === undefined) throw new CommandLineError(`flag '${flag}' of 'docker ${subcommand}' needs a value`);
      index++;
      return next;
    };
    if (word.startsWith('--')) {
      const equals = word.indexOf('=');
      const name = equals < 0 ? word : word.slice(0, equals);
      const inline = equals < 0 ? undefined : word.slice(equals + 1);
      const flag = lookUpFlag(table, name, subcommand);
      flag.apply(flag.takesValue ? (inline ?? nextValue(name)) : inline);
      continue;
    }
    // A cluster of short flags (`-it`, `-dp 80:80`, `-eKEY=V`): a flag that takes a value ends it.
    for (let position = 1; position < word.length; position++) {
      const name = `-${word[position]}`;
      const flag = lookUpFlag(table, name, subcommand);
      if (!flag.takesValue) {
        flag.apply(undefined);
        continue;
      }
      const attached = word.slice(position + 1).replace(/^=/, '');
      flag.apply(attached !== '' ? attached : nextValue(name));
      break;
    }
  }
  return positional;
}

function lookUpFlag(table: FlagTable, name: string, subcommand: string): Flag {
  const flag = table[name];
  if (!flag) throw new CommandLineError(`flag '${name}' of 'docker ${subcommand}' is not supported here`);
  return flag;
}

function switchValue(name: string, value: string | undefined): boolean {
  if (value === undefined || value === 'true') return true;
  if (value === 'false') return false;
  throw new CommandLineError(`flag '${name}' takes true or false, not '${value}'`);
}

function withValue(apply: (value: string) => void): Flag {
  return { takesValue: true, apply: (value) => apply(value ?? '') };
}

function aliases(names: string[], flag: Flag): FlagTable {
  return Object.fromEntries(names.map((name) => [name, flag]));
}

function quietFlags(): FlagTable {
  return aliases(['-q', '--quiet'], { takesValue: false, apply: () => undefined });
}

function pullFlags(warnings: string[]): FlagTable {
  return {
    ...quietFlags(),
    '--platform': withValue((value) => warnings.push(`'docker pull --platform ${value}' is ignored: the run's platform is pulled`)),
  };
}

function runFlags(run: DockerRunOptions, warnings: string[]): FlagTable {
  const ignoredSwitch = (name: string, why: string): Flag => ({
    takesValue: false,
    apply: () => warnings.push(`'docker run ${name}' is ignored: ${why}`),
  });
  const ignoredValue = (name: string, why: string): Flag =>
    withValue((value) => warnings.push(`'docker run ${name} ${value}' is ignored: ${why}`));
  const refused = (name: string, why: string): Flag => ({
    takesValue: true,
    apply: () => {
      throw new CommandLineError(`'docker run ${name}' is not supported here: ${why}`);
    },
  });
  const notInteractive = 'steps run without a terminal';
  const ownNetwork = 'each step runs in its own network namespace';
  const limits = 'resource limits come from the step settings';
  return {
    ...aliases(['-e', '--env'], withValue((value) => run.env.push(value))),
    ...aliases(['-p', '--publish'], withValue((value) => run.ports.push(value))),
    ...aliases(['-d', '--detach'], { takesValue: false, apply: (value) => (run.detach = switchValue('--detach', value)) }),
    '--rm': { takesValue: false, apply: (value) => (run.remove = switchValue('--rm', value)) },
    '--entrypoint': withValue((value) => (run.entryPoint = value)),
    ...aliases(['-u', '--user'], withValue((value) => (run.user = value))),
    ...aliases(['-w', '--workdir'], withValue((value) => (run.workingDirectory = value))),
    '--name': withValue((value) => (run.name = value)),
    ...aliases(['-i', '--interactive'], ignoredSwitch('--interactive', notInteractive)),
    ...aliases(['-t', '--tty'], ignoredSwitch('--tty', notInteractive)),
    '--init': ignoredSwitch('--init', 'the step runs its command as given'),
    '--privileged': ignoredSwitch('--privileged', "use the step's 'privileged' property"),
    '--network': ignoredValue('--network', ownNetwork),
    '--net': ignoredValue('--net', ownNetwork),
    ...aliases(['-h', '--hostname'], ignoredValue('--hostname', 'the step id is the host name')),
    '--add-host': ignoredValue('--add-host', ownNetwork),
    '--expose': ignoredValue('--expose', "use the step's 'expose' property"),
    ...aliases(['-l', '--label'], ignoredValue('--label', 'step containers are not labelled')),
    '--restart': ignoredValue('--restart', 'steps are not restarted; use the step\'s retries'),
    ...aliases(['-m', '--memory'], ignoredValue('--memory', limits)),
    '--cpus': ignoredValue('--cpus', "use the step's 'cpus' property"),
    '--platform': ignoredValue('--platform', "the run's platform is used"),
    '--pull': ignoredValue('--pull', "use the step's 'pull' property"),
    ...aliases(['-v', '--volume'], refused('--volume', "host folders cannot be mounted; use 'volumes' and the step's 'volumeMounts'")),
    '--mount': refused('--mount', "host folders cannot be mounted; use 'volumes' and the step's 'volumeMounts'"),
    '--env-file': refused('--env-file', "use the step's 'env' property"),
  };
}
