/** Command-line values of `berth build`, `berth run` and `berth task`: `--set K=V`, `--timeout`, `--platform`, `--values`. */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import { parse } from 'yaml';
import { CliError } from './errors.ts';

/** A value sent with a task or run; secret ones are masked in logs and never shown again. */
export interface RunValue {
  name: string;
  value: string;
  isSecret: boolean;
}

/** An argument parser for a repeatable `--set NAME=value` style option. */
export function valueParser(isSecret: boolean): (text: string, previous?: RunValue[]) => RunValue[] {
  return (text, previous = []) => {
    const equals = text.indexOf('=');
    if (equals <= 0) throw new InvalidArgumentError('expected NAME=value.');
    return [...previous, { name: text.slice(0, equals), value: text.slice(equals + 1), isSecret }];
  };
}

/** Repeatable plain option values (`-t a -t b`). */
export function collect(text: string, previous: string[] = []): string[] {
  return [...previous, text];
}

/** ACR's run timeout: 300 to 28,800 seconds. */
export function parseTimeout(text: string): number {
  const seconds = Number(text);
  if (!/^\d+$/.test(text) || seconds < 300 || seconds > 28800) throw new InvalidArgumentError('expected whole seconds from 300 to 28800.');
  return seconds;
}

/** `os/architecture[/variant]`, e.g. linux/amd64 or linux/arm/v7. */
export function parsePlatform(text: string): string {
  const platform = text.toLowerCase();
  if (!/^[a-z0-9]+(\/[a-z0-9]+){0,2}$/.test(platform)) throw new InvalidArgumentError('expected os/architecture[/variant], e.g. linux/amd64.');
  return platform;
}

/** `--values <file>`: a YAML mapping of names to scalar values (ACR's values file). */
export async function readValuesFile(file: string): Promise<RunValue[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`--values ${file}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new CliError(`--values ${file}: ${(error as Error).message}`);
  }
  if (document === null || document === undefined) return [];
  if (typeof document !== 'object' || Array.isArray(document)) throw new CliError(`--values ${file}: expected a mapping of names to values`);
  return Object.entries(document).map(([name, value]) => {
    if (value !== null && typeof value === 'object') throw new CliError(`--values ${file}: the value of ${name} is not a single value`);
    return { name, value: value === null ? '' : String(value), isSecret: false };
  });
}

/** Values of `--arg`, `--secret-arg`, `--set` and `--set-secret` together; undefined for none. */
export function valuesOf(...groups: (RunValue[] | undefined)[]): RunValue[] | undefined {
  const values = groups.flatMap((group) => group ?? []);
  return values.length > 0 ? values : undefined;
}
