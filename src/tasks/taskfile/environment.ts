import type { MapFields, YamlContext } from './yaml-fields.ts';

/** An `env` list, every entry checked to be `K=V`. */
export function readEnvironment(ctx: YamlContext, fields: MapFields): string[] {
  const entries: string[] = [];
  for (const { value, line } of fields.stringItems('env') ?? []) {
    if (/^[^=\s]+=/.test(value)) entries.push(value);
    else ctx.issues.error(line, 'each env entry must be written as NAME=value');
  }
  return entries;
}

/** The task's entries not overridden by the step's, then the step's. */
export function mergeEnvironment(task: string[], step: string[]): string[] {
  const nameOf = (entry: string): string => entry.slice(0, entry.indexOf('='));
  const overridden = new Set(step.map(nameOf));
  return [...task.filter((entry) => !overridden.has(nameOf(entry))), ...step];
}
