/**
 * Builds the parse tree from the tokens, with Go's parse-time checks: unknown functions,
 * undefined variables, misplaced `else`/`end`/`break`/`continue`, and missing `end`s.
 */
import type {
  BranchNode,
  CommandNode,
  Node,
  Operand,
  PipeNode,
  RangeNode,
  Span,
} from './ast.ts';
import type { TemplateError, TemplateSource } from './errors.ts';
import { hasFunction } from './functions.ts';
import { lex, type Token, type TokenType } from './lexer.ts';
import { parseNumber, unquoteChar, unquoteRaw, unquoteString } from './literals.ts';
import { quoteGo } from './printf.ts';

export function parse(source: TemplateSource): Node[] {
  return new Parser(source, lex(source)).parseTemplate();
}

/** `{{if}}`, `{{with}}` and `{{range}}` share the shape `pipeline list [else list] end`. */
interface Control {
  pipe: PipeNode;
  list: Node[];
  elseList: Node[] | undefined;
  end: number;
}

const LITERAL_KINDS = new Set<Operand['kind']>(['bool', 'dot', 'nil', 'number', 'string']);

class Parser {
  private index = 0;
  /** Variables in scope, innermost last; `$` is the root data. */
  private readonly vars: string[] = ['$'];
  private rangeDepth = 0;

  constructor(
    private readonly source: TemplateSource,
    private readonly tokens: Token[],
  ) {}

  parseTemplate(): Node[] {
    const { list, stop } = this.itemList();
    if (stop.type !== 'eof') throw this.error(stop, `unexpected {{${stop.value}}}`);
    return list;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const token = this.peek();
    if (token.type !== 'eof') this.index++;
    return token;
  }

  private error(at: Span, detail: string): TemplateError {
    return this.source.error(at.pos, detail);
  }

  private text(span: Span): string {
    return this.source.text.slice(span.pos, span.end);
  }

  /**
   * Text and actions up to the end of input or an `{{end}}`/`{{else}}`, whose keyword is
   * consumed and returned as `stop`. Variables declared in the list go out of scope with it.
   */
  private itemList(): { list: Node[]; stop: Token } {
    const list: Node[] = [];
    const scope = this.vars.length;
    for (;;) {
      const token = this.next();
      if (token.type === 'text') {
        list.push({ kind: 'text', text: token.value });
        continue;
      }
      if (token.type === 'leftDelim') {
        const keyword = this.peek();
        if (keyword.type !== 'keyword' || (keyword.value !== 'end' && keyword.value !== 'else')) {
          list.push(this.action(token));
          continue;
        }
        this.next();
      }
      this.vars.length = scope;
      return { list, stop: token.type === 'eof' ? token : this.peek(-1) };
    }
  }

  private action(open: Token): Node {
    const token = this.peek();
    if (token.type === 'keyword') {
      this.next();
      switch (token.value) {
        case 'if':
        case 'with':
          return this.branch(token.value, open);
        case 'range':
          return this.range(open);
        case 'break':
        case 'continue':
          if (this.rangeDepth === 0) throw this.error(token, `{{${token.value}}} outside {{range}}`);
          this.expect('rightDelim', token.value);
          return { kind: token.value, pos: open.pos, end: token.end };
        default:
          throw this.error(token, `{{${token.value}}} is not supported`);
      }
    }
    const pipe = this.pipeline('command', 'rightDelim');
    return { kind: 'action', pos: open.pos, end: pipe.end, pipe };
  }

  private branch(kind: 'if' | 'with', open: Token): BranchNode {
    return { kind, pos: open.pos, ...this.control(kind, open) };
  }

  private range(open: Token): RangeNode {
    return { kind: 'range', pos: open.pos, ...this.control('range', open) };
  }

  private control(kind: 'if' | 'with' | 'range', open: Token): Control {
    const scope = this.vars.length;
    const pipe = this.pipeline(kind, 'rightDelim');
    if (kind === 'range') this.rangeDepth++;
    const body = this.itemList();
    if (kind === 'range') this.rangeDepth--;
    let stop = body.stop;
    let elseList: Node[] | undefined;
    if (stop.value === 'else') {
      const chained = this.peek();
      if (chained.type === 'keyword' && (chained.value === 'if' || chained.value === 'with')) {
        if (chained.value !== kind) throw this.error(chained, `{{else ${chained.value}}} is not allowed in {{${kind}}}`);
        // {{else if b}}...{{end}} is {{else}}{{if b}}...{{end}}{{end}}: the nested branch takes the end.
        this.next();
        const nested = this.branch(kind, stop);
        this.vars.length = scope;
        return { pipe, list: body.list, elseList: [nested], end: nested.end };
      }
      this.expect('rightDelim', 'else');
      const alternative = this.itemList();
      elseList = alternative.list;
      stop = alternative.stop;
      if (stop.value === 'else') throw this.error(stop, `unexpected {{else}} after {{else}} in {{${kind}}}`);
    }
    if (stop.type === 'eof') throw this.error(open, `{{${kind}}} has no matching {{end}}`);
    const close = this.expect('rightDelim', 'end');
    this.vars.length = scope;
    return { pipe, list: body.list, elseList, end: close.end };
  }

  private expect(type: TokenType, context: string): Token {
    const token = this.next();
    if (token.type !== type) throw this.error(token, `unexpected ${describe(token)} in ${context}`);
    return token;
  }

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): PipeNode {
    const first = this.peek();
    const decl: string[] = [];
    let isAssign = false;
    if (first.type === 'variable') {
      const after = this.peek(1);
      if (after.type === 'declare' || after.type === 'assign') {
        this.index += 2;
        decl.push(first.value);
        isAssign = after.type === 'assign';
      } else if (after.type === 'comma') {
        if (context !== 'range') throw this.error(after, `too many declarations in ${context}`);
        const second = this.peek(2);
        const operator = this.peek(3);
        if (second.type !== 'variable' || (operator.type !== 'declare' && operator.type !== 'assign')) {
          throw this.error(after, 'range can only initialize variables');
        }
        this.index += 4;
        decl.push(first.value, second.value);
        isAssign = operator.type === 'assign';
      }
      if (isAssign) this.useVariable(first);
      if (isAssign && decl.length > 1) this.useVariable(this.peek(-2));
    }
    const cmds: CommandNode[] = [];
    for (;;) {
      const token = this.peek();
      if (token.type === end) {
        this.next();
        break;
      }
      if (cmds.length > 0) {
        this.expect('pipe', context);
        if (this.peek().type === end) throw this.error(this.peek(), 'missing command after "|"');
      }
      cmds.push(this.command());
    }
    const head = cmds[0];
    if (head === undefined) throw this.error(first, `missing value for ${context}`);
    cmds.forEach((cmd, i) => {
      if (i > 0 && LITERAL_KINDS.has(cmd.args[0]!.kind)) {
        throw this.error(cmd, `non executable command in pipeline stage ${i + 1}`);
      }
    });
    if (!isAssign) this.vars.push(...decl);
    return { kind: 'pipe', pos: first.pos, end: cmds[cmds.length - 1]!.end, decl, isAssign, cmds };
  }

  private command(): CommandNode {
    const args: Operand[] = [];
    for (;;) {
      const operand = this.operand();
      if (operand) args.push(operand);
      const token = this.peek();
      if (token.type === 'rightDelim' || token.type === 'rightParen' || token.type === 'pipe') break;
      if (!operand || !token.spaceBefore) throw this.error(token, `unexpected ${describe(token)} in operand`);
    }
    const head = args[0];
    if (head === undefined) throw this.error(this.peek(), 'empty command');
    if (head.kind === 'nil') throw this.error(head, 'nil is not a command');
    return { kind: 'command', pos: head.pos, end: args[args.length - 1]!.end, args };
  }

  /** A term followed by `.Field`s written without space. */
  private operand(): Operand | undefined {
    const term = this.term();
    if (!term) return undefined;
    const fields: string[] = [];
    let end = term.end;
    while (this.peek().type === 'field' && !this.peek().spaceBefore) {
      const field = this.next();
      fields.push(field.value.slice(1));
      end = field.end;
    }
    if (fields.length === 0) return term;
    switch (term.kind) {
      case 'field':
        return { ...term, names: [...term.names, ...fields], end };
      case 'variable':
        return { ...term, fields: [...term.fields, ...fields], end };
      case 'identifier':
      case 'pipe':
        return { kind: 'chain', pos: term.pos, end, node: term, fields };
      default:
        throw this.error(term, `unexpected . after term ${quoteGo(this.text(term))}`);
    }
  }

  private term(): Operand | undefined {
    const token = this.peek();
    const span = { pos: token.pos, end: token.end };
    switch (token.type) {
      case 'identifier':
        this.next();
        if (!hasFunction(token.value)) throw this.error(token, `function "${token.value}" not defined`);
        return { kind: 'identifier', ...span, name: token.value };
      case 'dot':
        this.next();
        return { kind: 'dot', ...span };
      case 'nil':
        this.next();
        return { kind: 'nil', ...span };
      case 'bool':
        this.next();
        return { kind: 'bool', ...span, value: token.value === 'true' };
      case 'number': {
        this.next();
        const value = parseNumber(token.value);
        if (value === undefined) throw this.error(token, `illegal number syntax: "${token.value}"`);
        return { kind: 'number', ...span, value };
      }
      case 'char':
        this.next();
        return { kind: 'number', ...span, value: this.literal(token, unquoteChar) };
      case 'string':
        this.next();
        return { kind: 'string', ...span, value: this.literal(token, unquoteString) };
      case 'rawString':
        this.next();
        return { kind: 'string', ...span, value: unquoteRaw(token.value) };
      case 'field':
        this.next();
        return { kind: 'field', ...span, names: [token.value.slice(1)] };
      case 'variable':
        this.next();
        this.useVariable(token);
        return { kind: 'variable', ...span, name: token.value, fields: [] };
      case 'leftParen': {
        this.next();
        const pipe = this.pipeline('parenthesized pipeline', 'rightParen');
        return { ...pipe, pos: token.pos, end: this.peek(-1).end };
      }
      default:
        return undefined;
    }
  }

  private literal<T>(token: Token, decode: (text: string) => T): T {
    try {
      return decode(token.value);
    } catch (error) {
      throw this.error(token, (error as Error).message);
    }
  }

  private useVariable(token: Token): void {
    if (!this.vars.includes(token.value)) throw this.error(token, `undefined variable "${token.value}"`);
  }
}

function describe(token: Token): string {
  switch (token.type) {
    case 'eof':
      return 'EOF';
    case 'keyword':
      return `<${token.value}>`;
    default:
      return quoteGo(token.value);
  }
}
