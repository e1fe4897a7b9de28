/** Go's builtin functions and the Sprig subset, with Go's and Sprig's semantics. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertFails, render } from './render-helpers.ts';

const data = { Values: { env: 'prod', n: 3, list: ['a', 'b'], map: { k: 'v' }, empty: '' } };

describe('comparison builtins', () => {
  it('eq compares strings, numbers and booleans', () => {
    assert.equal(render('{{ eq "a" "a" }} {{ eq 1 2 }} {{ eq true true }} {{ eq .Values.n 3 }}', data), 'true false true true');
  });

  it('eq with several arguments is true when the first equals any other', () => {
    assert.equal(render('{{ eq .Values.env "dev" "prod" }} {{ eq .Values.env "dev" "test" }}', data), 'true false');
  });

  it('ne, lt, le, gt, ge', () => {
    assert.equal(render('{{ ne 1 2 }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt 1 2 }} {{ ge 2 2 }}'), 'true true true false true');
    assert.equal(render('{{ lt "a" "b" }} {{ gt "b" "a" }}'), 'true true');
  });

  it('eq of different kinds is an error, but nil compares unequal to anything', () => {
    assertFails('{{ eq "1" 1 }}', {}, 'acr-task.yaml:1: error calling eq: incompatible types for comparison');
    assert.equal(render('{{ eq nil "x" }}'), 'false');
  });

  it('lt refuses booleans and mixed kinds', () => {
    assertFails('{{ lt true false }}', {}, 'acr-task.yaml:1: error calling lt: invalid type for comparison');
    assertFails('{{ lt 1 "a" }}', {}, 'acr-task.yaml:1: error calling lt: incompatible types for comparison');
  });

  it('eq of lists is an error', () => {
    assertFails('{{ eq .Values.list .Values.list }}', data, 'acr-task.yaml:1: error calling eq: non-comparable type []interface {}');
  });
});

describe('logic builtins', () => {
  it('and returns the first false operand or the last', () => {
    assert.equal(render('{{ and 1 0 2 }}|{{ and 1 "x" }}|{{ and "" 1 }}'), '0|x|');
  });

  it('or returns the first true operand or the last', () => {
    assert.equal(render('{{ or 0 "" "x" 1 }}|{{ or 0 false }}'), 'x|false');
  });

  it('and/or short-circuit: later operands are not evaluated', () => {
    assert.equal(render('{{ or 1 (index .l 9) }}', { l: [] }), '1');
    assert.equal(render('{{ and 0 (index .l 9) }}', { l: [] }), '0');
  });

  it('and/or take a piped value as the last operand', () => {
    assert.equal(render('{{ "x" | or "" }} {{ "x" | and "" }}'), 'x ');
  });

  it('not negates Go truthiness', () => {
    assert.equal(render('{{ not "" }} {{ not 1 }} {{ not .Values.list }}', data), 'true false false');
  });
});

describe('len, index, print', () => {
  it('len of strings (bytes), lists and maps', () => {
    assert.equal(render('{{ len "héllo" }} {{ len .Values.list }} {{ len .Values.map }}', data), '6 2 1');
  });

  it('len of a number is an error', () => {
    assertFails('{{ len 3 }}', {}, 'acr-task.yaml:1: error calling len: len of type int');
  });

  it('index reads lists, maps and nested values', () => {
    assert.equal(render('{{ index .Values.list 1 }} {{ index .Values "map" "k" }} {{ index .Values }}', { Values: { list: ['a', 'b'], map: { k: 'v' } } }), 'b v map[list:[a b] map:map[k:v]]');
  });

  it('index out of range is an error', () => {
    assertFails('{{ index .Values.list 5 }}', data, 'acr-task.yaml:1: error calling index: index out of range: 5');
  });

  it('index of a missing key is missing: an error when printed, empty for default', () => {
    assertFails('{{ index .Values "nope" }}', data, 'acr-task.yaml:1: map has no entry for key "nope"');
    assert.equal(render('{{ index .Values "nope" | default "d" }}', data), 'd');
  });

  it('print separates operands with spaces only when neither is a string', () => {
    assert.equal(render('{{ print "a" "b" 1 2 "c" }}'), 'ab1 2c');
  });

  it('println separates all operands and ends with a newline', () => {
    assert.equal(render('{{ println "a" 1 true }}'), 'a 1 true\n');
  });

  it('html and urlquery escape', () => {
    assert.equal(render(`{{ html "<a href='x'>&</a>" }}`), '&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;');
    assert.equal(render('{{ urlquery "a b&c=d/é" }}'), 'a+b%26c%3Dd%2F%C3%A9');
  });
});

describe('Sprig: default, empty, coalesce, ternary', () => {
  it('default returns the given value when it is not empty', () => {
    assert.equal(render('{{ .Values.env | default "dev" }}', data), 'prod');
  });

  it('default returns the fallback for empty values', () => {
    assert.equal(render('{{ .Values.empty | default "dev" }} {{ default 5 0 }} {{ default "x" false }} {{ default "l" .l }}', { ...data, l: [] }), 'dev 5 x l');
  });

  it('default with the value as a direct argument', () => {
    assert.equal(render('{{ default "dev" .Values.missing }}', data), 'dev');
  });

  it('empty', () => {
    assert.equal(render('{{ empty "" }} {{ empty 0 }} {{ empty "a" }} {{ empty .Values.list }} {{ empty .Values.none }}', data), 'true true false false true');
  });

  it('coalesce returns the first non-empty value', () => {
    assert.equal(render('{{ coalesce .Values.a .Values.empty 0 "third" "fourth" }}', data), 'third');
  });

  it('ternary picks by a boolean, piped last', () => {
    assert.equal(render('{{ ternary "yes" "no" true }} {{ eq .Values.env "dev" | ternary "d" "p" }}', data), 'yes p');
  });

  it('ternary refuses a non-boolean condition', () => {
    assertFails('{{ ternary "a" "b" "true" }}', {}, 'acr-task.yaml:1: wrong type for argument 3 of ternary: expected bool, got string');
  });
});

describe('Sprig: strings', () => {
  it('quote and squote', () => {
    assert.equal(render('{{ quote "a\\"b" }} {{ squote "x" }} {{ quote "a" 1 }} {{ .Values.env | quote }}', data), '"a\\"b" \'x\' "a" "1" "prod"');
  });

  it('lower, upper, title', () => {
    assert.equal(render('{{ lower "ABC" }} {{ upper "abc" }} {{ title "hello wide-world foo_bar" }}'), 'abc ABC Hello Wide-World Foo_bar');
  });

  it('trim, trimPrefix, trimSuffix, trimAll', () => {
    assert.equal(render('[{{ trim "  a b \\n" }}] {{ trimPrefix "v" "v1.2" }} {{ trimSuffix ".git" "repo.git" }} {{ trimAll "$" "$$5.00$" }}'), '[a b] 1.2 repo 5.00');
  });

  it('replace with Sprig argument order, piped', () => {
    assert.equal(render('{{ "a-b-c" | replace "-" "_" }} {{ replace "a" "b" "banana" }}'), 'a_b_c bbnbnb');
  });

  it('contains, hasPrefix, hasSuffix', () => {
    assert.equal(render('{{ contains "ell" "hello" }} {{ hasPrefix "he" "hello" }} {{ hasSuffix "lo" "hello" }} {{ "hello" | contains "x" }}'), 'true true true false');
  });

  it('splitList and join', () => {
    assert.equal(render('{{ splitList "," "a,b,c" }} {{ join "-" (splitList "," "a,b,c") }} {{ join "," .Values.list }}', data), '[a b c] a-b-c a,b');
  });

  it('split returns a map with _0, _1 ... keys', () => {
    assert.equal(render('{{ (split ":" "host:5000")._1 }} {{ split "." "a.b" }}'), '5000 map[_0:a _1:b]');
  });

  it('join of numbers formats each element', () => {
    assert.equal(render('{{ join "+" .l }}', { l: [1, 2.5, 'x'] }), '1+2.5+x');
  });

  it('toString, toJson', () => {
    assert.equal(render('{{ toString 42 }} {{ toJson .v }}', { v: { b: [1, 'x<y'], a: true, c: null } }), '42 {"a":true,"b":[1,"x\\u003cy"],"c":null}');
  });

  it('b64enc and b64dec', () => {
    assert.equal(render('{{ b64enc "user:pass" }} {{ b64dec "dXNlcjpwYXNz" }}'), 'dXNlcjpwYXNz user:pass');
  });

  it('b64dec of invalid data is an error', () => {
    assertFails('{{ b64dec "not base64!" }}', {}, 'acr-task.yaml:1: error calling b64dec: illegal base64 data');
  });

  it('repeat, substr, trunc, nospace', () => {
    assert.equal(render('{{ repeat 3 "ab" }} {{ substr 1 3 "hello" }} {{ substr 2 99 "hello" }} {{ trunc 3 "hello" }} {{ trunc -2 "hello" }} {{ nospace " a b\\tc " }}'), 'ababab el llo hel lo abc');
  });

  it('cat joins with spaces, skipping nil', () => {
    assert.equal(render('{{ cat "a" 1 nil "b" }}'), 'a 1 b');
  });

  it('indent and nindent', () => {
    assert.equal(render('{{ indent 2 "a\\nb" }}|{{ "x" | nindent 4 }}'), '  a\n  b|\n    x');
  });

  it('string functions refuse numbers, as Go does', () => {
    assertFails('{{ upper 5 }}', {}, 'acr-task.yaml:1: wrong type for argument 1 of upper: expected string, got int');
  });

  it('checks the number of arguments', () => {
    assertFails('{{ replace "a" "b" }}', {}, 'acr-task.yaml:1: wrong number of args for replace: want 3 got 2');
    assertFails('{{ printf }}', {}, 'acr-task.yaml:1: wrong number of args for printf: want at least 1 got 0');
    assertFails('{{ and }}', {}, 'acr-task.yaml:1: wrong number of args for and: want at least 1 got 0');
  });
});
