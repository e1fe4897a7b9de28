/** The run engine's task file reader on Berth's task file parser and Go-template engine. */
import { loadTaskFile, secretReferences } from '../taskfile/index.ts';
import { renderTemplate } from '../template/index.ts';
import { templateData } from '../taskfile/template-renderer.ts';
import type { TaskFileLoader } from './run-engine.ts';

export const taskFileLoader: TaskFileLoader = {
  secretReferences: (text, input) => secretReferences(text, input),
  load: (text, input, options) => loadTaskFile(text, input, { fileName: options.fileName }),
  render: (template, input) => renderTemplate(template, templateData(input), { name: 'image name' }),
};
