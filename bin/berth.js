#!/usr/bin/env -S node --max-semi-space-size=4
// The compiled CLI (`npm install` and `npm run build` produce dist/ from src/).
// A 4 MiB young generation instead of V8's 16 MiB: the server's garbage is short-lived and
// small, and the larger one only adds ~20 MiB of resident memory (see docs/benchmarks.md).
await import('../dist/cli/main.js');
