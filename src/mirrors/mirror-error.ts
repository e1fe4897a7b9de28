/** A refusal of the mirror service, worded for the user; `kind` picks the HTTP status. */
export class MirrorError extends Error {
  constructor(
    readonly kind: 'invalid' | 'not-found' | 'conflict' | 'forbidden',
    message: string,
  ) {
    super(message);
    this.name = 'MirrorError';
  }
}
