/**
 * Lets pending work run before a test looks at its effects: promise callbacks, I/O callbacks and
 * thread-pool jobs such as an fdatasync, given 20 ms.
 */
export function settle(): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, 20));
}

/** Whether `promise` has settled after `settle()`, without waiting for it any longer. */
export async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await settle();
  return settled;
}
