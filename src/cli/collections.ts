/** Management API listings answer `{value: [...]}` (ACR's list shape); commands print the array. */
import { CliError } from './errors.ts';

export function listOf(response: unknown): unknown[] {
  const value = (response as { value?: unknown } | undefined)?.value;
  if (!Array.isArray(value)) throw new CliError('the server answered a listing without a "value" array');
  return value;
}
