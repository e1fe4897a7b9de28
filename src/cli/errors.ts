/** A failure the CLI reports as `ERROR: <message>` on stderr with exit code 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}
