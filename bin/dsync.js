#!/usr/bin/env node
// The `dsync` executable: runs the compiled CLI (built by `npm ci`/`npm run build` into dist/).
import { main } from '../dist/harness/cli.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    console.error(`dsync: internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exitCode = 3;
  },
);
