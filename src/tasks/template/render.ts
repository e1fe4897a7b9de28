import { TemplateSource } from './errors.ts';
import { execute } from './evaluate.ts';
import { parse } from './parser.ts';

export interface RenderOptions {
  /** Names the template in error messages (`acr-task.yaml:12: ...`); default `template`. */
  name?: string;
}

/** Renders a Go text/template source (with the Sprig subset) against `data`; throws TemplateError. */
export function renderTemplate(source: string, data: unknown, options: RenderOptions = {}): string {
  const template = new TemplateSource(options.name ?? 'template', source);
  return execute(template, parse(template), data);
}
