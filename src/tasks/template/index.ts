/**
 * A small, strict Go text/template engine with a Sprig subset, for rendering task files
 * (`acr-task.yaml`) before they are parsed as YAML. See evaluate.ts for the strictness rule.
 */
export { TemplateError } from './errors.ts';
export { renderTemplate, type RenderOptions } from './render.ts';
