/** Entry point of the `berth` command: runs the command tree, printing failures as `ERROR: <message>`. */
import { CliError } from './errors.ts';
import { programFor } from './program-for.ts';

programFor(process.argv)
  .then((program) => program.parseAsync(process.argv))
  .catch((error: unknown) => {
    if (error instanceof CliError) {
      process.stderr.write(`ERROR: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  });
