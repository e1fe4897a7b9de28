/**
 * Prints command results as `az` does: `--query` (JMESPath) first, then `-o json` (default),
 * `jsonc` (coloured on a terminal), `table` (az-like columns), `tsv` (scalar fields, one row per
 * item) or `none`.
 */
import { search } from '@jmespath-community/jmespath';
import Table from 'cli-table3';
import { CliError } from './errors.ts';
import type { OutputFormat } from './output-formats.ts';

export { outputFormats, type OutputFormat } from './output-formats.ts';

/** A command's table view: the columns `az` shows for its objects, used when no `--query` is given. */
export interface TableColumn {
  header: string;
  value: (item: Record<string, unknown>) => unknown;
}

export interface RenderOptions {
  format: OutputFormat;
  query?: string;
  table?: TableColumn[];
  colour?: boolean;
}

/** jsonc is coloured only on a terminal, and never with NO_COLOR set. */
export function terminalColour(): boolean {
  return process.stdout.isTTY === true && !process.env.NO_COLOR;
}

export function applyQuery(value: unknown, query: string | undefined): unknown {
  if (query === undefined) return value;
  try {
    return search(value as Parameters<typeof search>[0], query);
  } catch (error) {
    throw new CliError(`--query: ${(error as Error).message}`);
  }
}

/** The text to print (with its final newline), or '' for nothing. */
export function render(value: unknown, options: RenderOptions): string {
  if (value === undefined || options.format === 'none') return '';
  const result = applyQuery(value, options.query);
  switch (options.format) {
    case 'json':
      return `${JSON.stringify(result, null, 2)}\n`;
    case 'jsonc':
      return `${options.colour ? colourJson(result, '') : JSON.stringify(result, null, 2)}\n`;
    case 'tsv':
      return formatTsv(result);
    case 'table':
      return formatTable(result, options.query === undefined ? options.table : undefined);
  }
}

type Row = Record<string, unknown>;

function isScalar(value: unknown): value is string | number | boolean | null {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function isObject(value: unknown): value is Row {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/[\t\r\n]+/g, ' ');
}

/** One line per item (a single object or scalar is one item); an object's scalar fields in order. */
export function formatTsv(value: unknown): string {
  if (value === null || value === undefined) return '';
  const items = Array.isArray(value) ? value : [value];
  return items
    .map((item) => {
      if (isObject(item)) return Object.values(item).filter(isScalar).map(cellText).join('\t');
      if (Array.isArray(item)) return item.filter(isScalar).map(cellText).join('\t');
      return cellText(item);
    })
    .map((line) => `${line}\n`)
    .join('');
}

/** A header row, a row of dashes, then one row per item, columns two spaces apart (as az's tables). */
export function formatTable(value: unknown, columns?: TableColumn[]): string {
  if (value === null || value === undefined) return '';
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) return '';
  const { headers, rows } = columns && items.every(isObject) ? columnRows(items as Row[], columns) : automaticRows(items);
  if (headers.length === 0) return '';
  const widths = headers.map((header, column) => Math.max(textWidth(header), ...rows.map((row) => textWidth(row[column] ?? ''))));
  const blank = { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '' };
  const table = new Table({ head: headers, chars: { ...blank, middle: '  ' }, style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 } });
  table.push(widths.map((width) => '-'.repeat(width)), ...rows);
  return `${table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')}\n`;
}

function columnRows(items: Row[], columns: TableColumn[]): { headers: string[]; rows: string[][] } {
  return { headers: columns.map((column) => column.header), rows: items.map((item) => columns.map((column) => cellText(column.value(item)))) };
}

/** az's table without a transformer: scalar fields, headers with a capital first letter; scalars under "Result". */
function automaticRows(items: unknown[]): { headers: string[]; rows: string[][] } {
  if (!items.some(isObject)) return { headers: ['Result'], rows: items.map((item) => [cellText(item)]) };
  const keys: string[] = [];
  for (const item of items) {
    if (!isObject(item)) continue;
    for (const [key, field] of Object.entries(item)) if (isScalar(field) && !keys.includes(key)) keys.push(key);
  }
  return {
    headers: keys.map((key) => key.charAt(0).toUpperCase() + key.slice(1)),
    rows: items.map((item) => keys.map((key) => (isObject(item) ? cellText(item[key]) : ''))),
  };
}

function textWidth(text: string): number {
  return [...text].length;
}

const colours = { key: '\x1b[94m', string: '\x1b[32m', number: '\x1b[36m', literal: '\x1b[35m', reset: '\x1b[0m' };

function colourJson(value: unknown, indent: string): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((item) => `${inner}${colourJson(item, inner)}`).join(',\n')}\n${indent}]`;
  }
  if (isObject(value)) {
    const entries = Object.entries(value).filter(([, field]) => field !== undefined);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([key, field]) => `${inner}${colours.key}${JSON.stringify(key)}${colours.reset}: ${colourJson(field, inner)}`).join(',\n')}\n${indent}}`;
  }
  if (typeof value === 'string') return `${colours.string}${JSON.stringify(value)}${colours.reset}`;
  if (typeof value === 'number') return `${colours.number}${JSON.stringify(value)}${colours.reset}`;
  return `${colours.literal}${JSON.stringify(value)}${colours.reset}`;
}
