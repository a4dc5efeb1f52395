#!/usr/bin/env node
// The CLI's entry in JavaScript: bin/certmq (the `certmq` command) runs it in a node started with
// certmq's OpenSSL settings. It runs the compiled output (npm install builds it through `prepare`).
await import('../dist/main.js')
