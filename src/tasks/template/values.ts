/**
 * Template values are plain JavaScript data: strings, numbers, booleans, null (Go's nil), arrays
 * (slices) and objects (maps). A number with an integral value behaves as a Go int, any other as
 * a float64 — JavaScript cannot tell `1.0` from `1`.
 */

/**
 * The value of a reference to something that does not exist (a missing key, or a key whose
 * value is null). It is only allowed where a missing value simply means "empty" (see
 * evaluate.ts); anywhere else it is an error carrying this message and position.
 */
export class Missing {
  constructor(
    private readonly reason: string,
    readonly pos: number | undefined,
    private readonly context?: string,
  ) {}

  get message(): string {
    return this.context === undefined ? this.reason : `${this.reason} (evaluating ${this.context})`;
  }

  /** The same missing value, reached through a longer path. */
  within(path: string): Missing {
    return new Missing(this.reason, this.pos, path);
  }
}

export function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Missing);
}

/** Go's truth: false, 0, nil, empty strings, slices and maps are false; so is a missing value. */
export function isTrue(value: unknown): boolean {
  if (value === null || value === undefined || value instanceof Missing) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string' || Array.isArray(value)) return value.length > 0;
  if (isMap(value)) return Object.keys(value).length > 0;
  return true;
}

/** Map keys in the order Go's text/template visits them. */
export function sortedKeys(map: Record<string, unknown>): string[] {
  return Object.keys(map).sort();
}

/** The Go type a value stands for, as Go's messages name it. */
export function goTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(value) ? 'int' : 'float64';
  }
  if (Array.isArray(value)) return '[]interface {}';
  return 'map[string]interface {}';
}
