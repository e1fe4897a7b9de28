/** A loop's sleep that ends early when woken; a wake while awake is kept for the next sleep. */
export class Wakeup {
  #pending = false;
  #resolve: ((woken: boolean) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  wake(): void {
    if (this.#resolve) this.#finish(true);
    else this.#pending = true;
  }

  /** Resolves after `ms` with false, or with true at once when woken meanwhile (or since the last sleep). */
  sleep(ms: number): Promise<boolean> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#timer = setTimeout(() => this.#finish(false), ms);
    });
  }

  #finish(woken: boolean): void {
    clearTimeout(this.#timer);
    const resolve = this.#resolve;
    this.#resolve = undefined;
    this.#timer = undefined;
    resolve?.(woken);
  }
}
