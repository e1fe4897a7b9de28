import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.ts';

/** Every command below the root, groups included (commander's own `help` excepted). */
function allCommands(command: Command, path: string[] = []): { path: string[]; command: Command }[] {
  return command.commands.flatMap((child) => [{ path: [...path, child.name()], command: child }, ...allCommands(child, [...path, child.name()])]);
}

function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (chunk) => (text += chunk) });
  command.outputHelp();
  return text;
}

describe('berth --help', () => {
  const commands = allCommands(buildProgram());

  it('covers every command group of az acr that Berth has', () => {
    const names = commands.map((entry) => entry.path.join(' '));
    for (const expected of [
      'serve',
      'configure',
      'login',
      'create',
      'list',
      'show',
      'update',
      'delete',
      'credential show',
      'credential renew',
      'user create',
      'user list',
      'user show',
      'user delete',
      'user reset-password',
      'sp create',
      'sp list',
      'sp show',
      'sp delete',
      'role assignment create',
      'role assignment list',
      'role assignment delete',
      'scope-map create',
      'scope-map update',
      'scope-map show',
      'scope-map list',
      'scope-map delete',
      'token create',
      'token update',
      'token show',
      'token list',
      'token delete',
      'token credential generate',
      'repository list',
      'repository show',
      'repository show-tags',
      'repository show-manifests',
      'repository delete',
      'repository untag',
    ]) {
      assert.ok(names.includes(expected), `berth ${expected} exists`);
    }
  });

  for (const { path, command } of commands) {
    it(`berth ${path.join(' ')} --help has examples of itself and shows the global options`, () => {
      const help = helpOf(command);
      const examples = help.split('\nExamples:\n')[1];
      assert.ok(examples, `no Examples section in:\n${help}`);
      assert.ok(examples.includes(`berth ${path.join(' ')}`), `the examples use the command:\n${examples}`);
      if (path[0] !== 'serve') assert.match(help, /--query <jmespath>/);
    });
  }
});
