/** The `dsync` command line: parses arguments and dispatches to the commands. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { modelNames } from '../checkers/index.js';
import { checkCommand, EXIT, parseTimeoutMs, type Output } from './check-command.js';

const consoleOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: readonly string[], io: Output = consoleOutput): Promise<number> {
  let code: number = EXIT.valid;
  const program = new Command('dsync')
    .description('Jepsen-style testing of distributed synchronization: checkers, harness, benchmarks')
    .version(version())
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      writeErr: (s) => io.err(s.replace(/\n$/, '')),
    })
    .showHelpAfterError('(run dsync --help for usage)');

  program
    .command('check')
    .description('check recorded histories (Jepsen EDN or dsync JSONL) for linearizability')
    .argument('<files...>', 'history files (.edn: one map per line or one top-level vector; .jsonl: one op per line), or folders of them')
    .requiredOption('-m, --model <name>', `the model: ${modelNames().join(', ')}`)
    .option('--independent', 'values are Jepsen [key value] tuples: check each key separately with the model')
    .option('--initial <edn>', "the model's initial value in EDN, e.g. 0 for a register or '{:x 0 :y 0}' for multi-register")
    .option('--json', 'print one JSON object per file instead of text')
    .option('--timeout-ms <n>', 'time budget per history; the verdict is unknown when it runs out', (v) => {
      try {
        return parseTimeoutMs(v);
      } catch (e) {
        throw new InvalidArgumentError((e as Error).message);
      }
    })
    .action(async (files: string[], opts: { model: string; json?: boolean; timeoutMs?: number; independent?: boolean; initial?: string }) => {
      code = await checkCommand(files, opts, io);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; anything else is a usage error.
      return e.exitCode === 0 ? EXIT.valid : EXIT.error;
    }
    throw e;
  }
  return code;
}
