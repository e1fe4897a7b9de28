/** printf with Go's fmt verbs, flags, width and precision, and its in-output error forms. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { render } from './render-helpers.ts';

const printf = (format: string, ...args: string[]): string =>
  render(`{{ printf ${JSON.stringify(format)} ${args.join(' ')} }}`, { list: ['a', 'b'], map: { y: 2, x: 1 }, f: 3.14159 });

describe('printf', () => {
  it('%s and %v', () => {
    assert.equal(printf('%s-%v-%v', '"a"', '1', 'true'), 'a-1-true');
  });

  it('%d with width, zero padding, sign and left alignment', () => {
    assert.equal(printf('[%d|%5d|%-5d|%05d|%+d|%05d]', '7', '7', '7', '7', '7', '-7'), '[7|    7|7    |00007|+7|-0007]');
  });

  it('%q quotes strings and runes', () => {
    assert.equal(printf('%q %q', '"a\\"b\\n"', "'x'"), `"a\\"b\\n" 'x'`);
  });

  it('%x and %X of numbers and strings, with #', () => {
    assert.equal(printf('%x %X %#x %x', '255', '255', '255', '"hi"'), 'ff FF 0xff 6869');
  });

  it('%o, %b and %c', () => {
    assert.equal(printf('%o %b %c', '8', '5', '65'), '10 101 A');
  });

  it('%f, %.2f, %8.3f, %e and %g', () => {
    assert.equal(printf('%f|%.2f|%8.3f|%e|%g|%.3g', '.f', '.f', '.f', '.f', '.f', '.f'), '3.141590|3.14|   3.142|3.141590e+00|3.14159|3.14');
  });

  it('%g switches to exponent notation like Go', () => {
    assert.equal(printf('%g %g %g %g', '100000.0', '1000000.0', '0.0001', '0.00001'), '100000 1e+06 0.0001 1e-05');
  });

  it('the float verbs accept integral numbers', () => {
    assert.equal(printf('%.1f', '2'), '2.0');
  });

  it('%t of booleans', () => {
    assert.equal(printf('%t %t', 'true', 'false'), 'true false');
  });

  it('%% prints a percent sign', () => {
    assert.equal(printf('100%%'), '100%');
  });

  it('%-8s and %.2s pad and truncate strings', () => {
    assert.equal(printf('[%-4s][%4s][%.2s]', '"ab"', '"ab"', '"abcdef"'), '[ab  ][  ab][ab]');
  });

  it('formats lists and maps element by element', () => {
    assert.equal(printf('%v %q %v', '.list', '.list', '.map'), '[a b] ["a" "b"] map[x:1 y:2]');
  });

  it('%v of nil is <nil>', () => {
    assert.equal(printf('%v', 'nil'), '<nil>');
  });

  it('writes wrong verbs, missing and extra arguments into the output as Go does', () => {
    assert.equal(printf('%d', '"x"'), '%!d(string=x)');
    assert.equal(printf('%s', '5'), '%!s(int=5)');
    assert.equal(printf('%d', '1.5'), '%!d(float64=1.5)');
    assert.equal(printf('%s %s', '"a"'), 'a %!s(MISSING)');
    assert.equal(printf('%s', '"a"', '"b"', '3'), 'a%!(EXTRA string=b, int=3)');
    assert.equal(printf('50%'), '50%!(NOVERB)');
  });
});
