/**
 * Masks secret values in a run's log. Output arrives in arbitrary chunks, so a secret may be split
 * across two writes: each stream holds back the shortest tail that could still turn into a secret
 * (a prefix of one, or part of an occurrence that runs into that prefix) until more text arrives.
 */

export const MASK = '*****';

export class SecretMasker {
  readonly #secrets: string[] = [];

  constructor(secrets: Iterable<string> = []) {
    for (const secret of secrets) this.add(secret);
  }

  /** Adds a value to mask from now on (empty strings are ignored). */
  add(secret: string): void {
    if (secret === '' || this.#secrets.includes(secret)) return;
    this.#secrets.push(secret);
    // Longest first, so a secret containing another is masked whole.
    this.#secrets.sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.#secrets.length;
  }

  mask(text: string): string {
    let result = text;
    for (const secret of this.#secrets) {
      if (result.includes(secret)) result = result.split(secret).join(MASK);
    }
    return result;
  }

  /** A masking stream for one producer of chunks (e.g. one step's output). */
  stream(): MaskingStream {
    return new MaskingStream(this);
  }

  /** How much of `text` may be released now without cutting a secret in two. */
  safeLength(text: string): number {
    let cut = text.length - this.#longestPendingPrefix(text);
    for (let moved = true; moved; ) {
      moved = false;
      for (const secret of this.#secrets) {
        // An occurrence starting before the cut and ending after it must stay whole.
        for (let from = Math.max(0, cut - secret.length + 1); from < cut; from++) {
          if (from + secret.length > cut && text.startsWith(secret, from)) {
            cut = from;
            moved = true;
            break;
          }
        }
      }
    }
    return cut;
  }

  #longestPendingPrefix(text: string): number {
    let longest = 0;
    for (const secret of this.#secrets) {
      for (let length = Math.min(secret.length - 1, text.length); length > longest; length--) {
        if (text.endsWith(secret.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}

export class MaskingStream {
  #pending = '';

  constructor(private readonly masker: SecretMasker) {}

  /** Returns the masked text that can be released now. */
  write(chunk: string): string {
    this.#pending += chunk;
    const cut = this.masker.safeLength(this.#pending);
    const ready = this.#pending.slice(0, cut);
    this.#pending = this.#pending.slice(cut);
    return this.masker.mask(ready);
  }

  /** Releases what was held back (the stream ended). */
  end(): string {
    const rest = this.masker.mask(this.#pending);
    this.#pending = '';
    return rest;
  }
}
