#!/usr/bin/env -S node --max-semi-space-size=4 --no-allocation-site-pretenuring --harmony
// The compiled CLI (`npm install` and `npm run build` produce dist/ from src/).
// V8 flags for the server's memory (figures in docs/benchmarks.md):
// - A 4 MiB young generation instead of 16 MiB: the server's garbage is short-lived and small,
//   and the larger one only adds ~20 MiB of resident memory.
// - No allocation-site pretenuring: requests that live for seconds (a large push or pull) taught
//   V8 to allocate every later request's objects directly in the old generation, where the
//   garbage of thousands of short requests a second then waited for full collections (the
//   manifest workload peaked 30-70 MiB higher after pushes and pulls than without them).
// - `--harmony` gives Node 20 `ArrayBuffer.prototype.transfer` (standard, and built into Node 21
//   and later), with which an upload frees each request chunk once written (store/free-chunk.ts).
await import('../dist/cli/main.js');
