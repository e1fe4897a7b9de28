#!/usr/bin/env -S node --max-semi-space-size=4 --harmony
// The compiled CLI (`npm install` and `npm run build` produce dist/ from src/).
// A 4 MiB young generation instead of V8's 16 MiB: the server's garbage is short-lived and
// small, and the larger one only adds ~20 MiB of resident memory (see docs/benchmarks.md).
// `--harmony` gives Node 20 `ArrayBuffer.prototype.transfer` (standard, and built into Node 21
// and later), with which an upload frees each request chunk once written (store/free-chunk.ts).
await import('../dist/cli/main.js');
