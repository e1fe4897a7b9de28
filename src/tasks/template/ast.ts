/** The parse tree of a template (Go's text/template/parse nodes, without define/template/block). */

/** Offsets into the source: where a node starts and ends. */
export interface Span {
  pos: number;
  end: number;
}

export type Node = TextNode | ActionNode | BranchNode | RangeNode | LoopControlNode;

export interface TextNode {
  kind: 'text';
  text: string;
}

/** `{{ pipeline }}`: prints the value unless the pipeline declares or assigns a variable. */
export interface ActionNode extends Span {
  kind: 'action';
  pipe: PipeNode;
}

/** `{{if}}` and `{{with}}`; `else if`/`else with` are nested branches in `elseList`. */
export interface BranchNode extends Span {
  kind: 'if' | 'with';
  pipe: PipeNode;
  list: Node[];
  elseList: Node[] | undefined;
}

export interface RangeNode extends Span {
  kind: 'range';
  pipe: PipeNode;
  list: Node[];
  elseList: Node[] | undefined;
}

export interface LoopControlNode extends Span {
  kind: 'break' | 'continue';
}

/** `$x := cmd | cmd ...`; also a parenthesised operand. */
export interface PipeNode extends Span {
  kind: 'pipe';
  /** Declared or assigned variables, `$` included in the name. */
  decl: string[];
  isAssign: boolean;
  cmds: CommandNode[];
}

/** A function call or a single operand: `printf "%s" .X`. */
export interface CommandNode extends Span {
  kind: 'command';
  args: Operand[];
}

export type Operand =
  | FieldNode
  | VariableNode
  | ChainNode
  | DotNode
  | NilNode
  | BoolNode
  | NumberNode
  | StringNode
  | IdentifierNode
  | PipeNode;

/** `.A.B`: fields of dot. */
export interface FieldNode extends Span {
  kind: 'field';
  names: string[];
}

/** `$x.A.B` (`$` alone is the root data). */
export interface VariableNode extends Span {
  kind: 'variable';
  name: string;
  fields: string[];
}

/** `(pipeline).A` or `fn.A`: fields of a computed value. */
export interface ChainNode extends Span {
  kind: 'chain';
  node: IdentifierNode | PipeNode;
  fields: string[];
}

export interface DotNode extends Span {
  kind: 'dot';
}

export interface NilNode extends Span {
  kind: 'nil';
}

export interface BoolNode extends Span {
  kind: 'bool';
  value: boolean;
}

export interface NumberNode extends Span {
  kind: 'number';
  value: number;
}

export interface StringNode extends Span {
  kind: 'string';
  value: string;
}

/** A function name. */
export interface IdentifierNode extends Span {
  kind: 'identifier';
  name: string;
}
