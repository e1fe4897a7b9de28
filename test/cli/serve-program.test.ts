import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.ts';
import { programFor } from '../../src/cli/program-for.ts';

function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (chunk) => (text += chunk) });
  command.outputHelp();
  return text;
}

function serveOf(program: Command): Command {
  const serve = program.commands.find((command) => command.name() === 'serve');
  assert.ok(serve, 'the program has a serve command');
  return serve;
}

describe('the command tree for a command line', () => {
  it('is the root command with serve alone for `berth serve`', async () => {
    const program = await programFor(['node', 'berth', 'serve', '--listen', '127.0.0.1:0']);
    assert.deepEqual(
      program.commands.map((command) => command.name()),
      ['serve'],
    );
  });

  it('gives `berth serve` the same options and help as the full tree does', async () => {
    const alone = serveOf(await programFor(['node', 'berth', 'serve']));
    const full = serveOf(buildProgram());
    assert.equal(helpOf(alone), helpOf(full));
    assert.deepEqual(
      alone.options.map((option) => option.flags),
      full.options.map((option) => option.flags),
    );
  });

  it('is the full tree for every other command line', async () => {
    for (const argv of [['node', 'berth'], ['node', 'berth', 'login'], ['node', 'berth', '--server', 'http://127.0.0.1:1', 'serve']]) {
      const program = await programFor(argv);
      assert.equal(program.commands.length, buildProgram().commands.length, argv.join(' '));
    }
  });
});
