#!/usr/bin/env node
// The compiled CLI (`npm install` and `npm run build` produce dist/ from src/).
await import('../dist/cli/main.js');
