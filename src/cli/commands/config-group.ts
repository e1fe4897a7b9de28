/** `berth config ...`: registry policies (quarantine, retention), one group shared by their commands. */
import type { Command } from 'commander';
import { examples } from '../context.ts';

/** The `config` group of the program, created by whichever policy command registers first. */
export function configGroup(program: Command): Command {
  const existing = program.commands.find((command) => command.name() === 'config');
  if (existing) return existing;
  return examples(program.command('config').description("manage a registry's policies"), [
    ['Enable quarantine of new pushes.', 'berth config quarantine update -r contoso --status enabled'],
    ['Delete untagged manifests at once.', 'berth config retention update -r contoso --status enabled --days 0 --type UntaggedManifests'],
  ]);
}
