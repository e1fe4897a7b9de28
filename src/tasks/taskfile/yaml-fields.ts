/**
 * Typed, line-aware reading of the parsed task file: each getter checks the YAML type of one
 * property and records an error on its line instead of throwing, so one pass finds every
 * problem. Accepts what ACR's runner (Go's yaml.v2) accepts: any scalar where a string is
 * expected (`user: 1000`), and `yes`/`no`/`on`/`off` for booleans.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type YAMLMap } from 'yaml';
import type { TaskFileIssue } from '../model.ts';
import type { IssueLog } from './task-file-error.ts';

export interface Located<T> {
  value: T;
  line: number;
}

const YAML_1_1_BOOLEANS: Record<string, boolean> = { yes: true, on: true, no: false, off: false };

export class YamlContext {
  constructor(
    readonly doc: Document,
    readonly lineCounter: LineCounter,
    readonly source: string,
    readonly issues: IssueLog,
  ) {}

  lineOf(node: unknown, fallback: number): number {
    const range = (node as Node | null | undefined)?.range;
    return range ? this.lineCounter.linePos(range[0]).line : fallback;
  }

  /** The node behind a YAML alias (`*name`), or the node itself. */
  resolve(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.doc) : node;
  }

  /** A scalar's text: string values as parsed, numbers and booleans as written. */
  scalarText(node: unknown): string | undefined {
    const resolved = this.resolve(node);
    if (!isScalar(resolved) || resolved.value === null) return undefined;
    if (typeof resolved.value === 'string') return resolved.value;
    const range = resolved.range;
    return range ? this.source.slice(range[0], range[1]) : String(resolved.value);
  }

  /** Reads a mapping, reporting keys outside `known` (with a hint when only the case differs). */
  fields(node: YAMLMap, known: readonly string[], line: number): MapFields {
    return new MapFields(this, node, known, line);
  }
}

interface Entry {
  keyLine: number;
  node: unknown;
}

export class MapFields {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ctx: YamlContext,
    node: YAMLMap,
    known: readonly string[],
    readonly line: number,
  ) {
    for (const pair of node.items) {
      const keyLine = ctx.lineOf(pair.key, line);
      const key = ctx.scalarText(pair.key);
      if (key === undefined) {
        ctx.issues.error(keyLine, 'property names must be plain strings');
      } else if (!known.includes(key)) {
        const sameIgnoringCase = known.find((name) => name.toLowerCase() === key.toLowerCase());
        const hint = sameIgnoringCase ? ` (did you mean '${sameIgnoringCase}'?)` : '';
        ctx.issues.error(keyLine, `unknown property '${key}'${hint}`);
      } else {
        this.entries.set(key, { keyLine, node: ctx.resolve(pair.value) });
      }
    }
  }

  /** The property is written, even if its value is empty. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The property is written with a non-null value. */
  present(name: string): boolean {
    const node = this.entries.get(name)?.node;
    return node !== undefined && node !== null && !(isScalar(node) && node.value === null);
  }

  keyLine(name: string): number {
    return this.entries.get(name)?.keyLine ?? this.line;
  }

  node(name: string): unknown {
    return this.entries.get(name)?.node;
  }

  private valueLine(name: string): number {
    const entry = this.entries.get(name);
    return entry ? this.ctx.lineOf(entry.node, entry.keyLine) : this.line;
  }

  private fail(name: string, message: string): undefined {
    this.ctx.issues.error(this.valueLine(name), message);
    return undefined;
  }

  string(name: string): string | undefined {
    if (!this.present(name)) return undefined;
    const text = this.ctx.scalarText(this.node(name));
    return text ?? this.fail(name, `'${name}' must be a string`);
  }

  int(name: string, min = 0): number | undefined {
    if (!this.present(name)) return undefined;
    const node = this.node(name);
    const value = isScalar(node) ? node.value : undefined;
    if (typeof value === 'number' && Number.isInteger(value) && value >= min) return value;
    return this.fail(name, `'${name}' must be a whole number of at least ${min}`);
  }

  bool(name: string): boolean | undefined {
    if (!this.present(name)) return undefined;
    const node = this.node(name);
    if (isScalar(node)) {
      if (typeof node.value === 'boolean') return node.value;
      if (typeof node.value === 'string' && node.type === 'PLAIN') {
        const value = YAML_1_1_BOOLEANS[node.value.toLowerCase()];
        if (value !== undefined) return value;
      }
    }
    return this.fail(name, `'${name}' must be true or false`);
  }

  /** A list of scalars; with `allowSingle`, one scalar counts as a list of one. */
  stringItems(name: string, allowSingle = false): Located<string>[] | undefined {
    if (!this.present(name)) return undefined;
    const node = this.node(name);
    const line = this.valueLine(name);
    if (allowSingle && isScalar(node)) {
      const text = this.ctx.scalarText(node);
      return text === undefined ? this.fail(name, `'${name}' must be a string or a list of strings`) : [{ value: text, line }];
    }
    if (!isSeq(node)) return this.fail(name, `'${name}' must be a list of strings`);
    const items: Located<string>[] = [];
    for (const item of node.items) {
      const text = this.ctx.scalarText(item);
      const itemLine = this.ctx.lineOf(item, line);
      if (text === undefined) this.ctx.issues.error(itemLine, `'${name}' must be a list of strings`);
      else items.push({ value: text, line: itemLine });
    }
    return items;
  }

  ints(name: string): number[] | undefined {
    if (!this.present(name)) return undefined;
    const node = this.node(name);
    if (!isSeq(node)) return this.fail(name, `'${name}' must be a list of whole numbers`);
    const values: number[] = [];
    for (const item of node.items) {
      const resolved = this.ctx.resolve(item);
      const value = isScalar(resolved) ? resolved.value : undefined;
      if (typeof value === 'number' && Number.isInteger(value)) values.push(value);
      else this.ctx.issues.error(this.ctx.lineOf(item, this.valueLine(name)), `'${name}' must be a list of whole numbers`);
    }
    return values;
  }

  /** A list of mappings, each with its line. */
  maps(name: string): Located<YAMLMap>[] | undefined {
    if (!this.present(name)) return undefined;
    const node = this.node(name);
    if (!isSeq(node)) return this.fail(name, `'${name}' must be a list`);
    const maps: Located<YAMLMap>[] = [];
    for (const item of node.items) {
      const resolved = this.ctx.resolve(item);
      const itemLine = this.ctx.lineOf(item, this.valueLine(name));
      if (isMap(resolved)) maps.push({ value: resolved, line: itemLine });
      else this.ctx.issues.error(itemLine, `each entry of '${name}' must be a mapping`);
    }
    return maps;
  }

  /** A mapping of scalar keys to scalar values, in order. */
  stringMap(name: string): Array<Located<[string, string]>> | undefined {
    if (!this.present(name)) return undefined;
    const node = this.node(name);
    if (!isMap(node)) return this.fail(name, `'${name}' must be a mapping of names to strings`);
    const entries: Array<Located<[string, string]>> = [];
    for (const pair of node.items) {
      const line = this.ctx.lineOf(pair.key, this.valueLine(name));
      const key = this.ctx.scalarText(pair.key);
      const value = this.ctx.scalarText(pair.value);
      if (key === undefined || value === undefined) this.ctx.issues.error(line, `'${name}' must be a mapping of names to strings`);
      else entries.push({ value: [key, value], line });
    }
    return entries;
  }

  /** A nested mapping. */
  map(name: string): Located<YAMLMap> | undefined {
    if (!this.present(name)) return undefined;
    const node = this.node(name);
    return isMap(node) ? { value: node, line: this.valueLine(name) } : this.fail(name, `'${name}' must be a mapping`);
  }
}

/** Parses YAML keeping positions; its syntax errors are returned as issues (none → undefined). */
export function parseYaml(text: string, issues: IssueLog): { ctx: YamlContext; yamlIssues?: TaskFileIssue[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const ctx = new YamlContext(doc, lineCounter, text, issues);
  if (doc.errors.length === 0) return { ctx };
  const yamlIssues = doc.errors.map((error) => ({
    line: lineCounter.linePos(error.pos[0]).line,
    message: `invalid YAML: ${error.message.split('\n')[0]}`,
  }));
  return { ctx, yamlIssues };
}
