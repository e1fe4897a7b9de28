/**
 * Executes a parse tree against data with Go's text/template semantics.
 *
 * Strictness rule. Referring to something that does not exist — a missing map key, a key whose
 * value is null, a field of such a value, or `index` of a missing key — yields a missing value
 * (values.ts), and a missing value is an error naming the line and the path
 * (`acr-task.yaml:7: .Values.REGISTRY_FROM_URL is not defined`) wherever it is used, except:
 *   - as the condition of `if` / `else if` / `with` (a missing value is false), including a
 *     variable the condition declares;
 *   - as an argument of `and`, `or`, `not`, and of Sprig's `default`, `empty`, `coalesce`,
 *     whether passed directly or through a pipe (there it is simply empty).
 * So `{{ .Values.X | default "y" }}` and `{{ if .Values.X }}` work when X is not set, while
 * `{{ .Values.X }}`, `{{ upper .Values.X }}` or `{{ $x := .Values.X }}` fail. Printing nil (e.g.
 * `coalesce` of empty values) is an error too rather than Go's `<no value>`.
 */
import type { CommandNode, IdentifierNode, Node, Operand, PipeNode, RangeNode, Span } from './ast.ts';
import type { TemplateError, TemplateSource } from './errors.ts';
import { lookupFunction } from './functions.ts';
import { formatValue } from './printf.ts';
import { FunctionError, type CallableFunction, type ParamType } from './signature.ts';
import { goTypeName, isMap, isTrue, Missing, sortedKeys } from './values.ts';

export function execute(source: TemplateSource, tree: Node[], data: unknown): string {
  const state = new State(source, data);
  state.walkList(tree, data ?? null);
  return state.output.join('');
}

type Flow = 'break' | 'continue' | undefined;

/** No value piped into a command. */
const NONE = Symbol('none');

interface Variable {
  name: string;
  value: unknown;
}

class State {
  readonly output: string[] = [];
  private readonly vars: Variable[];

  constructor(
    private readonly source: TemplateSource,
    data: unknown,
  ) {
    this.vars = [{ name: '$', value: data ?? null }];
  }

  walkList(list: Node[], dot: unknown): Flow {
    for (const node of list) {
      const flow = this.walk(node, dot);
      if (flow) return flow;
    }
    return undefined;
  }

  private walk(node: Node, dot: unknown): Flow {
    switch (node.kind) {
      case 'text':
        this.output.push(node.text);
        return undefined;
      case 'action': {
        const value = this.evalPipeline(dot, node.pipe, false);
        if (node.pipe.decl.length === 0) this.output.push(this.printable(value, node.pipe));
        return undefined;
      }
      case 'if':
      case 'with': {
        const scope = this.vars.length;
        const value = this.evalPipeline(dot, node.pipe, true);
        let flow: Flow;
        if (isTrue(value)) flow = this.walkList(node.list, node.kind === 'with' ? value : dot);
        else if (node.elseList) flow = this.walkList(node.elseList, dot);
        this.vars.length = scope;
        return flow;
      }
      case 'range':
        return this.walkRange(node, dot);
      case 'break':
      case 'continue':
        return node.kind;
    }
  }

  private walkRange(node: RangeNode, dot: unknown): Flow {
    const scope = this.vars.length;
    const collection = this.evalPipeline(dot, node.pipe, false);
    const iterationScope = this.vars.length;
    let iterations = 0;
    for (const [key, element] of this.entries(collection, node)) {
      iterations++;
      this.bindRangeVariables(node.pipe, key, element);
      const flow = this.walkList(node.list, element);
      this.vars.length = iterationScope;
      if (flow === 'break') break;
    }
    // break and continue in the else list belong to an enclosing range.
    const flow = iterations === 0 && node.elseList ? this.walkList(node.elseList, dot) : undefined;
    this.vars.length = scope;
    return flow;
  }

  /** Index or key, and element, in Go's order (maps by sorted key). */
  private *entries(collection: unknown, node: RangeNode): Generator<[unknown, unknown]> {
    if (Array.isArray(collection)) {
      for (let i = 0; i < collection.length; i++) yield [i, collection[i] ?? null];
    } else if (isMap(collection)) {
      for (const key of sortedKeys(collection)) yield [key, collection[key] ?? null];
    } else if (typeof collection === 'number' && Number.isInteger(collection)) {
      if (node.pipe.decl.length > 1) {
        throw this.error(node.pipe, `can't use ${collection} to iterate over more than one variable`);
      }
      for (let i = 0; i < collection; i++) yield [i, i];
    } else if (collection !== null) {
      throw this.error(node.pipe, `range can't iterate over ${formatValue(collection)}`);
    }
  }

  /** `range $v := ...` binds the element; `range $i, $v := ...` the index (or key) and the element. */
  private bindRangeVariables(pipe: PipeNode, key: unknown, element: unknown): void {
    const values = pipe.decl.length === 2 ? [key, element] : [element];
    pipe.decl.forEach((name, i) => {
      if (pipe.isAssign) this.setVariable(name, values[i], pipe);
      else this.vars[this.vars.length - pipe.decl.length + i]!.value = values[i];
    });
  }

  /** `lenient`: the value is a condition, so it may be missing. */
  private evalPipeline(dot: unknown, pipe: PipeNode, lenient: boolean): unknown {
    let value: unknown = NONE;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    if (!lenient) this.strict(value, pipe);
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.setVariable(name, value, pipe);
      else this.vars.push({ name, value });
    }
    return value;
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: unknown): unknown {
    const [head, ...args] = cmd.args as [Operand, ...Operand[]];
    if (head.kind === 'identifier') return this.evalFunction(dot, head, args, final, cmd);
    if (args.length > 0 || final !== NONE) {
      throw this.error(head, `can't give argument to non-function ${this.text(head)}`);
    }
    return this.evalOperand(dot, head);
  }

  /** An operand's value, which may be missing. */
  private evalOperand(dot: unknown, node: Operand): unknown {
    switch (node.kind) {
      case 'field':
        return this.walkFields(dot, node.names, '', node);
      case 'variable':
        return this.walkFields(this.variable(node.name, node), node.fields, node.name, node);
      case 'chain':
        return this.walkFields(this.evalOperand(dot, node.node), node.fields, this.text(node.node), node);
      case 'dot':
        return dot;
      case 'nil':
        return null;
      case 'bool':
      case 'number':
      case 'string':
        return node.value;
      case 'identifier':
        return this.evalFunction(dot, node, [], NONE, node);
      case 'pipe':
        return this.evalPipeline(dot, node, true);
    }
  }

  private walkFields(receiver: unknown, names: string[], prefix: string, node: Span): unknown {
    let value = receiver;
    let path = prefix;
    let missingPath = prefix;
    for (const name of names) {
      path += `.${name}`;
      if (value instanceof Missing) continue;
      const field = isMap(value) && Object.hasOwn(value, name) ? value[name] : undefined;
      if (value !== null && !isMap(value)) {
        throw this.error(node, `can't evaluate field ${name} in type ${goTypeName(value)}`);
      }
      if (field === undefined || field === null) {
        value = new Missing(`${path} is not defined`, node.pos);
        missingPath = path;
      } else {
        value = field;
      }
    }
    return value instanceof Missing && missingPath !== path ? value.within(path) : value;
  }

  private evalFunction(dot: unknown, ident: IdentifierNode, argNodes: Operand[], final: unknown, at: Span): unknown {
    const fn = lookupFunction(ident.name);
    if (fn === undefined) throw this.error(ident, `function "${ident.name}" not defined`);
    if (fn.kind === 'shortCircuit') {
      if (argNodes.length === 0 && final === NONE) {
        throw this.error(at, `wrong number of args for ${ident.name}: want at least 1 got 0`);
      }
      let value: unknown;
      for (const node of argNodes) {
        value = this.evalOperand(dot, node);
        if (isTrue(value) === fn.stopWhen) return value;
      }
      return final === NONE ? value : final;
    }
    const args = argNodes.map((node) => {
      const value = this.evalOperand(dot, node);
      if (!fn.lenient) this.strict(value, node);
      return value;
    });
    if (final !== NONE) {
      if (!fn.lenient) this.strict(final, at);
      args.push(final);
    }
    this.checkCall(ident.name, fn, args, at);
    try {
      return fn.call(args);
    } catch (error) {
      if (error instanceof FunctionError) throw this.error(at, `error calling ${ident.name}: ${error.message}`);
      throw error;
    }
  }

  private checkCall(name: string, fn: CallableFunction, args: unknown[], at: Span): void {
    const fixed = fn.params.length;
    if (fn.variadic === undefined ? args.length !== fixed : args.length < fixed) {
      const want = fn.variadic === undefined ? `${fixed}` : `at least ${fixed}`;
      throw this.error(at, `wrong number of args for ${name}: want ${want} got ${args.length}`);
    }
    args.forEach((arg, i) => {
      const type = fn.params[i] ?? fn.variadic!;
      if (!accepts(type, arg)) {
        const got = arg instanceof Missing ? 'nil' : goTypeName(arg);
        throw this.error(at, `wrong type for argument ${i + 1} of ${name}: expected ${type}, got ${got}`);
      }
    });
  }

  /** Outside the lenient places, a missing value is an error. */
  private strict(value: unknown, at: Span): void {
    if (value instanceof Missing) throw this.source.error(value.pos ?? at.pos, value.message);
  }

  private printable(value: unknown, pipe: PipeNode): string {
    if (value === null) throw this.error(pipe, `${this.text(pipe)} has no value (nil)`);
    return formatValue(value);
  }

  private variable(name: string, at: Span): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) return this.vars[i]!.value;
    }
    throw this.error(at, `undefined variable "${name}"`);
  }

  private setVariable(name: string, value: unknown, at: Span): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    throw this.error(at, `undefined variable "${name}"`);
  }

  private text(span: Span): string {
    return this.source.text.slice(span.pos, span.end);
  }

  private error(at: Span, detail: string): TemplateError {
    return this.source.error(at.pos, detail);
  }
}

function accepts(type: ParamType, value: unknown): boolean {
  switch (type) {
    case 'any':
      return true;
    case 'string':
      return typeof value === 'string';
    case 'int':
      return typeof value === 'number' && Number.isInteger(value);
    case 'bool':
      return typeof value === 'boolean';
  }
}
