/**
 * Rendering: text, trim markers, comments, fields, variables, control structures, pipelines and
 * literals, with Go text/template's semantics.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderTemplate } from '../../../src/tasks/template/index.ts';
import { render } from './render-helpers.ts';

const run = {
  Run: { ID: 'ca1', Registry: 'contoso.localhost', RegistryName: 'contoso' },
  Values: { env: 'prod', count: 3, zero: 0, empty: '', flag: true, list: ['a', 'b', 'c'], map: { b: 2, a: 1, c: 3 } },
};

describe('text and actions', () => {
  it('copies text without actions unchanged', () => {
    assert.equal(render('version: v1.1.0\nsteps: []\n'), 'version: v1.1.0\nsteps: []\n');
  });

  it('renders an empty template as empty', () => {
    assert.equal(render(''), '');
  });

  it('keeps single braces and a lone closing delimiter as text', () => {
    assert.equal(render('a { b } }} c'), 'a { b } }} c');
  });

  it('trims white space before {{- and after -}}', () => {
    assert.equal(render('a  \n\t{{- .Run.ID -}}\n  b', run), 'aca1b');
  });

  it('trims only on the marked side', () => {
    assert.equal(render('a {{- .Run.ID }} b', run), 'aca1 b');
    assert.equal(render('a {{ .Run.ID -}} b', run), 'a ca1b');
  });

  it('reads {{-3}} as the number -3, not a trim marker', () => {
    assert.equal(render('a {{-3}} b'), 'a -3 b');
  });

  it('drops comments, with and without trim markers', () => {
    assert.equal(render('a{{/* a comment */}}b'), 'ab');
    assert.equal(render('a {{- /* multi\nline */ -}} b'), 'ab');
  });

  it('allows actions to span lines', () => {
    assert.equal(render('{{ if\n  eq .Run.ID "ca1"\n}}yes{{ end }}', run), 'yes');
  });
});

describe('fields and data', () => {
  it('reads nested fields', () => {
    assert.equal(render('{{.Run.Registry}}/node-import:{{.Run.ID}}', run), 'contoso.localhost/node-import:ca1');
  });

  it('prints dot itself', () => {
    assert.equal(render('{{ . }}', 'hello'), 'hello');
  });

  it('reads fields of $ (the root) anywhere', () => {
    assert.equal(render('{{ range .Values.list }}{{ $.Run.ID }}{{ end }}', run), 'ca1ca1ca1');
  });

  it('prints numbers, booleans, lists and maps as Go does', () => {
    assert.equal(render('{{ .Values.count }} {{ .Values.flag }} {{ .Values.list }} {{ .Values.map }}', run), '3 true [a b c] map[a:1 b:2 c:3]');
  });

  it('prints floats with %g-style shortest formatting', () => {
    assert.equal(render('{{ .a }} {{ .b }} {{ .c }}', { a: 1.5, b: 1234567.5, c: 0.00001 }), '1.5 1.2345675e+06 1e-05');
  });

  it('reads keys that are not Go-exported names', () => {
    assert.equal(render('{{ .values.lower_case }}', { values: { lower_case: 'ok' } }), 'ok');
  });

  it('reads fields of a parenthesised pipeline', () => {
    assert.equal(render('{{ (index .Values "map").b }}', run), '2');
  });
});

describe('variables', () => {
  it('declares and uses a variable', () => {
    assert.equal(render('{{ $tag := .Run.ID }}img:{{ $tag }}', run), 'img:ca1');
  });

  it('declares a variable from a pipeline', () => {
    assert.equal(render('{{ $x := .Values.env | upper }}{{ $x }}', run), 'PROD');
  });

  it('reads fields of a variable', () => {
    assert.equal(render('{{ $r := .Run }}{{ $r.Registry }}', run), 'contoso.localhost');
  });

  it('assigns with = to an outer variable from inside range', () => {
    assert.equal(render('{{ $last := "" }}{{ range .Values.list }}{{ $last = . }}{{ end }}{{ $last }}', run), 'c');
  });

  it('scopes variables declared in a block to that block', () => {
    assert.equal(render('{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}', {}), '21');
  });

  it('binds a variable declared in an if condition in both branches', () => {
    assert.equal(render('{{ if $v := .Values.env }}{{ $v }}{{ end }}', run), 'prod');
    assert.equal(render('{{ with $v := .Values.empty }}x{{ else }}[{{ $v }}]{{ end }}', run), '[]');
  });
});

describe('if / else if / else', () => {
  const choose = '{{ if eq .Values.env "dev" }}dev{{ else if eq .Values.env "prod" }}prod{{ else }}other{{ end }}';

  it('takes the first true branch', () => {
    assert.equal(render(choose, run), 'prod');
    assert.equal(render(choose, { Values: { env: 'dev' } }), 'dev');
    assert.equal(render(choose, { Values: { env: 'test' } }), 'other');
  });

  it('uses Go truthiness: empty string, 0, false, nil, empty list and map are false', () => {
    const data = { s: '', n: 0, b: false, z: null, l: [], m: {} };
    for (const key of Object.keys(data)) {
      assert.equal(render(`{{ if .${key} }}T{{ else }}F{{ end }}`, { ...data, [key]: (data as Record<string, unknown>)[key] }), 'F', key);
    }
  });

  it('treats non-empty values as true', () => {
    const data = { s: 'x', n: -1, f: 0.5, b: true, l: [0], m: { a: null } };
    for (const key of Object.keys(data)) assert.equal(render(`{{ if .${key} }}T{{ else }}F{{ end }}`, data), 'T', key);
  });

  it('nests', () => {
    assert.equal(render('{{ if .Values.flag }}{{ if .Values.zero }}a{{ else }}b{{ end }}{{ end }}', run), 'b');
  });

  it('keeps the dot unchanged in if bodies', () => {
    assert.equal(render('{{ if .Run }}{{ .Run.ID }}{{ end }}', run), 'ca1');
  });
});

describe('with', () => {
  it('sets dot to the value when it is true', () => {
    assert.equal(render('{{ with .Run }}{{ .ID }}@{{ .Registry }}{{ end }}', run), 'ca1@contoso.localhost');
  });

  it('runs else with the outer dot when the value is empty', () => {
    assert.equal(render('{{ with .Values.empty }}x{{ else }}{{ .Run.ID }}{{ end }}', run), 'ca1');
  });

  it('supports else with', () => {
    assert.equal(render('{{ with .Values.empty }}a{{ else with .Values.env }}{{ . }}{{ end }}', run), 'prod');
  });
});

describe('range', () => {
  it('iterates over a list with dot as the element', () => {
    assert.equal(render('{{ range .Values.list }}[{{ . }}]{{ end }}', run), '[a][b][c]');
  });

  it('binds index and element', () => {
    assert.equal(render('{{ range $i, $e := .Values.list }}{{ $i }}:{{ $e }} {{ end }}', run), '0:a 1:b 2:c ');
  });

  it('binds the element with a single variable', () => {
    assert.equal(render('{{ range $e := .Values.list }}{{ $e }}{{ end }}', run), 'abc');
  });

  it('visits map keys in sorted order', () => {
    assert.equal(render('{{ range $k, $v := .Values.map }}{{ $k }}={{ $v }};{{ end }}', run), 'a=1;b=2;c=3;');
  });

  it('runs else when there is nothing to iterate', () => {
    assert.equal(render('{{ range .l }}x{{ else }}none{{ end }}', { l: [] }), 'none');
    assert.equal(render('{{ range .m }}x{{ else }}none{{ end }}', { m: {} }), 'none');
    assert.equal(render('{{ range index .l 0 }}x{{ else }}none{{ end }}', { l: [null] }), 'none');
  });

  it('iterates over an integer (Go 1.22)', () => {
    assert.equal(render('{{ range $i := 3 }}{{ $i }}{{ end }}'), '012');
  });

  it('supports break and continue', () => {
    const source = '{{ range .Values.list }}{{ if eq . "b" }}{{ continue }}{{ end }}{{ if eq . "c" }}{{ break }}{{ end }}{{ . }}{{ end }}';
    assert.equal(render(source, { Values: { list: ['a', 'b', 'c', 'd'] } }), 'a');
  });

  it('breaks only the innermost range', () => {
    assert.equal(render('{{ range $a := .l }}{{ range $.l }}{{ break }}{{ end }}{{ $a }}{{ end }}', { l: [1, 2] }), '12');
  });

  it('lets break in an else list end the enclosing range', () => {
    assert.equal(render('{{ range .l }}{{ . }}{{ range $.e }}{{ else }}{{ break }}{{ end }}x{{ end }}', { l: [1, 2], e: [] }), '1');
  });

  it('assigns index and element to existing variables with =', () => {
    assert.equal(render('{{ $i := 0 }}{{ $v := "" }}{{ range $i, $v = .l }}{{ end }}{{ $i }}{{ $v }}', { l: ['a', 'b'] }), '1b');
  });

  it('gives each iteration fresh body variables', () => {
    assert.equal(render('{{ range .l }}{{ $x := . }}{{ $x }}{{ end }}', { l: [1, 2] }), '12');
  });
});

describe('pipelines and literals', () => {
  it('passes the value of a stage as the last argument of the next', () => {
    assert.equal(render('{{ .Values.env | printf "%s-%s" "x" }}', run), 'x-prod');
  });

  it('evaluates parenthesised sub-expressions', () => {
    assert.equal(render('{{ printf "%s:%s" (.Run.Registry | upper) (lower "ID") }}', run), 'CONTOSO.LOCALHOST:id');
  });

  it('decodes Go escapes in double-quoted strings', () => {
    assert.equal(render('{{ "tab\\there\\n\\x41\\u00e9\\101\\"" }}'), 'tab\there\nAéA"');
  });

  it('keeps raw strings as written', () => {
    assert.equal(render('{{ `C:\\dir\\n "q"` }}'), 'C:\\dir\\n "q"');
  });

  it('reads number literals in Go syntax', () => {
    assert.equal(render('{{ 42 }} {{ -7 }} {{ 0x1F }} {{ 0o17 }} {{ 017 }} {{ 0b101 }} {{ 1_000 }} {{ 2.5 }} {{ 1e3 }}'), '42 -7 31 15 15 5 1000 2.5 1000');
  });

  it('reads character constants as numbers', () => {
    assert.equal(render("{{ 'a' }} {{ '\\n' }}"), '97 10');
  });

  it('reads booleans', () => {
    assert.equal(render('{{ true }} {{ not false }}'), 'true true');
  });

  it('uses nil as an argument', () => {
    assert.equal(render('{{ print nil }} {{ eq nil nil }}'), '<nil> true');
  });
});

describe('renderTemplate options', () => {
  it('names the template "template" by default', () => {
    assert.throws(() => renderTemplate('{{ .x }}', {}), { message: 'template:1: .x is not defined' });
  });

  it('renders with data given as undefined', () => {
    assert.equal(renderTemplate('plain', undefined), 'plain');
  });
});
