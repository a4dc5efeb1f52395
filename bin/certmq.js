#!/usr/bin/env node
// The published entry point runs the compiled output (npm install builds it through `prepare`).
await import('../dist/main.js')
