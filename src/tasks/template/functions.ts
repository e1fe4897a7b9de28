/** The functions a template may call: Go's builtins and a Sprig subset. */
import { BUILTINS } from './builtins.ts';
import type { TemplateFunction } from './signature.ts';
import { SPRIG } from './sprig.ts';

const FUNCTIONS: ReadonlyMap<string, TemplateFunction> = new Map([
  ...Object.entries(BUILTINS),
  ...Object.entries(SPRIG),
]);

export function hasFunction(name: string): boolean {
  return FUNCTIONS.has(name);
}

export function lookupFunction(name: string): TemplateFunction | undefined {
  return FUNCTIONS.get(name);
}
