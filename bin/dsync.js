#!/usr/bin/env node
// The `dsync` executable: runs the compiled CLI (built into dist/ by `npm ci` or `npm run build`).
let cli;
try {
  cli = await import('../dist/harness/cli.js');
} catch (err) {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist')) {
    console.error('dsync: the project is not built yet; run `npm ci` (or `npm run build`) first');
    process.exit(3);
  }
  throw err;
}

cli.main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`dsync: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 3;
  },
);
