/** How template functions declare their parameters, so calls are checked the way Go's reflection checks them. */

export type ParamType = 'any' | 'string' | 'int' | 'bool';

export interface CallableFunction {
  kind: 'call';
  params: ParamType[];
  /** Type of any further arguments; absent when the function takes exactly `params`. */
  variadic?: ParamType;
  /** Accepts missing values as empty ones (see the strictness rule in evaluate.ts). */
  lenient?: boolean;
  call(args: unknown[]): unknown;
}

/** `and` and `or`: arguments are evaluated only until the result is known. */
export interface ShortCircuitFunction {
  kind: 'shortCircuit';
  /** The truth value that ends the evaluation and is returned (false for `and`, true for `or`). */
  stopWhen: boolean;
}

export type TemplateFunction = CallableFunction | ShortCircuitFunction;

/** A failure inside a function; the evaluator reports it as `error calling <name>: <message>`. */
export class FunctionError extends Error {}

export function callable(
  params: ParamType[],
  call: CallableFunction['call'],
  options: { variadic?: ParamType; lenient?: boolean } = {},
): CallableFunction {
  return { kind: 'call', params, call, ...options };
}
