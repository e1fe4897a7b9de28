/**
 * Strictness and errors: missing values, unknown functions, parse errors — each with the line
 * of the template where it happens.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertFails, render } from './render-helpers.ts';

const data = { Run: { ID: 'ca1' }, Values: { A: 'a', empty: '', nothing: null } };

describe('missing values', () => {
  it('a missing key is an error naming the line and the full path', () => {
    const source = 'version: v1.1.0\nsteps:\n  - cmd: >\n      docker pull {{.Values.REGISTRY_FROM_URL}}node:15-alpine\n';
    const error = assertFails(source, data, 'acr-task.yaml:4: .Values.REGISTRY_FROM_URL is not defined');
    assert.equal(error.line, 4);
    assert.equal(error.column, 21);
  });

  it('a missing top-level field is an error', () => {
    assertFails('{{ .Secrets.password }}', data, 'acr-task.yaml:1: .Secrets is not defined (evaluating .Secrets.password)');
  });

  it('a key whose value is null counts as not defined', () => {
    assertFails('{{ .Values.nothing }}', data, 'acr-task.yaml:1: .Values.nothing is not defined');
  });

  it('a missing value passed to an ordinary function is an error', () => {
    assertFails('x\n{{ upper .Values.X }}', data, 'acr-task.yaml:2: .Values.X is not defined');
    assertFails('x\n\n{{ .Values.X | lower }}', data, 'acr-task.yaml:3: .Values.X is not defined');
    assertFails('{{ eq .Values.X "a" }}', data, 'acr-task.yaml:1: .Values.X is not defined');
  });

  it('a variable cannot be declared from a missing value', () => {
    assertFails('{{ $x := .Values.X }}', data, 'acr-task.yaml:1: .Values.X is not defined');
  });

  it('range over a missing value is an error', () => {
    assertFails('{{ range .Values.L }}{{ end }}', data, 'acr-task.yaml:1: .Values.L is not defined');
  });

  it('default, empty and coalesce accept missing values, piped or as arguments', () => {
    assert.equal(render('{{ .Values.X | default "y" }} {{ default "z" .Values.X.Y }} {{ empty .Values.X }} {{ coalesce .Values.X "c" }}', data), 'y z true c');
  });

  it('if, with, and, or, not treat missing values as empty', () => {
    const source = '{{ if .Values.X }}1{{ else }}0{{ end }}{{ with .Nope.Deeper }}1{{ else }}0{{ end }}{{ if and .Values.X 1 }}1{{ else }}0{{ end }}{{ or .Values.X "o" }}{{ not .Values.X }}';
    assert.equal(render(source, data), '000otrue');
  });

  it('if over a condition that uses the missing value in a strict function is still an error', () => {
    assertFails('{{ if eq .Values.X "a" }}{{ end }}', data, 'acr-task.yaml:1: .Values.X is not defined');
  });

  it('a missing value that and/or returns is an error when printed', () => {
    assertFails('{{ and 1 .Values.X }}', data, 'acr-task.yaml:1: .Values.X is not defined');
  });

  it('a missing value that default falls back to is an error when printed', () => {
    assertFails('{{ default .Values.Y .Values.X }}', data, 'acr-task.yaml:1: .Values.Y is not defined');
  });

  it('printing nil is an error, not <no value>', () => {
    assertFails('{{ coalesce .Values.empty 0 }}', data, 'acr-task.yaml:1: coalesce .Values.empty 0 has no value (nil)');
  });

  it('a field of a string is an error even where missing values are allowed', () => {
    assertFails('{{ if .Values.A.B }}{{ end }}', data, "acr-task.yaml:1: can't evaluate field B in type string");
  });

  it('giving arguments to a field is an error', () => {
    assertFails('{{ .Values.A "x" }}', data, "acr-task.yaml:1: can't give argument to non-function .Values.A");
    assertFails('{{ "x" | .Values.A }}', data, "acr-task.yaml:1: can't give argument to non-function .Values.A");
  });

  it('ranging over a string is an error', () => {
    assertFails('{{ range .Values.A }}{{ end }}', data, "acr-task.yaml:1: range can't iterate over a");
  });
});

describe('parse errors', () => {
  it('an unknown function names the function and the line', () => {
    assertFails('a\nb\n{{ foo .Run.ID }}', data, 'acr-task.yaml:3: function "foo" not defined');
  });

  it('an unknown function is found even in a branch that never runs', () => {
    assertFails('{{ if false }}\n{{ nope }}\n{{ end }}', data, 'acr-task.yaml:2: function "nope" not defined');
  });

  it('an undefined variable', () => {
    assertFails('line\n{{ $y }}', data, 'acr-task.yaml:2: undefined variable "$y"');
    assertFails('{{ $z = 1 }}', data, 'acr-task.yaml:1: undefined variable "$z"');
  });

  it('a variable used outside its block', () => {
    assertFails('{{ if true }}{{ $x := 1 }}{{ end }}\n{{ $x }}', data, 'acr-task.yaml:2: undefined variable "$x"');
  });

  it('an unclosed action', () => {
    assertFails('ok\n  image: {{ .Run.ID\nmore', data, 'acr-task.yaml:2: unclosed action');
  });

  it('an unterminated string', () => {
    assertFails('a\n{{ print "abc }}\n', data, 'acr-task.yaml:2: unterminated quoted string');
    assertFails('{{ print `abc }}', data, 'acr-task.yaml:1: unterminated raw quoted string');
  });

  it('an unexpected end or else', () => {
    assertFails('a\n{{ end }}', data, 'acr-task.yaml:2: unexpected {{end}}');
    assertFails('{{ else }}', data, 'acr-task.yaml:1: unexpected {{else}}');
  });

  it('a missing end names the line of the unclosed block', () => {
    assertFails('a\n{{ if .Values.A }}\nb\n{{ range .x }}\n{{ end }}', data, 'acr-task.yaml:2: {{if}} has no matching {{end}}');
    assertFails('{{ with .x }}', data, 'acr-task.yaml:1: {{with}} has no matching {{end}}');
  });

  it('if without a condition', () => {
    assertFails('{{ if }}x{{ end }}', data, 'acr-task.yaml:1: missing value for if');
  });

  it('an empty action', () => {
    assertFails('{{ }}', data, 'acr-task.yaml:1: missing value for command');
  });

  it('an unclosed comment', () => {
    assertFails('a\n{{/* never closed }}', data, 'acr-task.yaml:2: unclosed comment');
  });

  it('unbalanced parentheses', () => {
    assertFails('{{ (print 1 }}', data, 'acr-task.yaml:1: unclosed left paren');
    assertFails('{{ print 1) }}', data, 'acr-task.yaml:1: unexpected right paren');
  });

  it('operands must be separated by spaces', () => {
    assertFails('{{ print "a""b" }}', data, 'acr-task.yaml:1: unexpected "\\"b\\"" in operand');
  });

  it('a character that cannot appear in an action', () => {
    assertFails('{{ .Run.ID # }}', data, "acr-task.yaml:1: unrecognized character in action: U+0023 '#'");
  });

  it('break and continue outside range', () => {
    assertFails('{{ break }}', data, 'acr-task.yaml:1: {{break}} outside {{range}}');
    assertFails('{{ if true }}{{ continue }}{{ end }}', data, 'acr-task.yaml:1: {{continue}} outside {{range}}');
  });

  it('else if inside range and a second else', () => {
    assertFails('{{ range .x }}{{ else if true }}{{ end }}', data, 'acr-task.yaml:1: {{else if}} is not allowed in {{range}}');
    assertFails('{{ if true }}{{ else }}{{ else }}{{ end }}', data, 'acr-task.yaml:1: unexpected {{else}} after {{else}} in {{if}}');
  });

  it('nil as a command, and a literal after a pipe', () => {
    assertFails('{{ nil }}', data, 'acr-task.yaml:1: nil is not a command');
    assertFails('{{ .Run.ID | "x" }}', data, 'acr-task.yaml:1: non executable command in pipeline stage 2');
  });

  it('a dangling pipe', () => {
    assertFails('{{ .Run.ID | }}', data, 'acr-task.yaml:1: missing command after "|"');
  });

  it('invalid escapes and numbers', () => {
    assertFails('{{ "\\q" }}', data, 'acr-task.yaml:1: invalid escape sequence \\q');
    assertFails('{{ 12abc }}', data, 'acr-task.yaml:1: bad number syntax: "12a"');
  });

  it('define and template are not supported', () => {
    assertFails('{{ define "x" }}{{ end }}', data, 'acr-task.yaml:1: {{define}} is not supported');
  });

  it('reports the line of a runtime error deep in a multi-line file', () => {
    const source = ['version: v1.1.0', 'steps:', '{{ range .l }}', '  - cmd: {{ . }}', '{{ end }}', '  - cmd: {{ index .l 7 }}'].join('\n');
    assertFails(source, { l: ['a'] }, 'acr-task.yaml:6: error calling index: index out of range: 7');
  });

  it('counts lines in text trimmed by markers', () => {
    assertFails('a\n\n  {{- "x" -}}\n\n{{ bad }}', data, 'acr-task.yaml:5: function "bad" not defined');
  });
});
