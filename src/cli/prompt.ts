/** Talking to the person at the terminal: confirmations, hidden password entry, piped secrets. */
import { createInterface } from 'node:readline/promises';
import { CliError } from './errors.ts';

/** Asks before a destructive step unless `--yes`; without a terminal to ask on, `--yes` is required. */
export async function confirm(question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) throw new CliError('Unable to prompt for confirmation as no tty available. Use --yes.');
  const readline = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await readline.question(`${question} (y/n): `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('Operation cancelled.');
  } finally {
    readline.close();
  }
}

/** Everything piped on stdin, without the final line break (for `--password-stdin`). */
export async function readStdinSecret(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new CliError('--password-stdin: the input is longer than 64 KiB');
    chunks.push(chunk as Buffer);
  }
  const secret = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (!secret) throw new CliError('--password-stdin: nothing was read from stdin');
  return secret;
}

/** Reads a password on the terminal without echoing it. */
export async function promptHidden(question: string): Promise<string> {
  if (!process.stdin.isTTY) throw new CliError(`${question.replace(/:\s*$/, '')}: no terminal to ask on; use --password-stdin`);
  process.stderr.write(question);
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = '';
      const onData = (data: string) => {
        for (const character of data) {
          if (character === '\r' || character === '\n' || character === '\u0004') {
            stdin.off('data', onData);
            resolve(typed);
            return;
          }
          if (character === '\u0003') {
            stdin.off('data', onData);
            reject(new CliError('Operation cancelled.'));
            return;
          }
          typed = character === '\u007f' || character === '\b' ? typed.slice(0, -1) : typed + character;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}
