/** Compare-and-set cursors in memory, as the trigger store keeps them. */
export class MemoryCursors {
  readonly cursors = new Map<string, string>();
  async commitCursor(registry: string, task: string): Promise<string | null> {
    return this.cursors.get(`${registry}/${task}`) ?? null;
  }
  async advanceCommitCursor(registry: string, task: string, expected: string | null, next: string): Promise<boolean> {
    if ((this.cursors.get(`${registry}/${task}`) ?? null) !== expected) return false;
    this.cursors.set(`${registry}/${task}`, next);
    return true;
  }
}
