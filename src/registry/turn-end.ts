/**
 * The end of the event loop's turn, for small replies to wait for before they are written.
 *
 * Why: a reply written while its client sleeps wakes the client up, and on a VM waking a sleeping
 * CPU is costly for the writer. Under load the event loop handles many requests per turn; written
 * one after another at the end of the turn, their replies wake each client once for the lot, not
 * once per reply. With 64 connections from one `wrk` thread, manifest GETs went from 17,800–19,500
 * to 31,200–31,600 per second (docs/benchmarks.md). A lone request waits one pass of the loop.
 */
let turnEnd: Promise<void> | undefined;

/** Resolves in the check phase of the current turn, together with everything else waiting for it. */
export function endOfTurn(): Promise<void> {
  turnEnd ??= new Promise((resolve) =>
    setImmediate(() => {
      turnEnd = undefined;
      resolve();
    }),
  );
  return turnEnd;
}
