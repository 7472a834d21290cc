/** The `dsync` command line: parses arguments and dispatches to the commands. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT_CODES as EXIT, modelNames } from '../checkers/index.js';
import { checkCommand, DEFAULT_CHECK_MAX_MEMORY_MB, DEFAULT_CHECK_TIMEOUT_MS, parseTimeoutMs, type Output } from './check-command.js';
import { nodeCommand, type NodeFlags } from '../cluster/node/node-command.js';
import { registerBenchCommand } from './bench/lock-bench.js';
import { registerQueueBenchCommand } from './bench/queue-bench.js';
import { registerCacheBenchCommand } from './bench/cache-bench.js';
import { registerCompareBenchCommand } from './bench/compare-bench.js';
import { registerLoadgenBenchCommand } from './bench/loadgen-bench.js';
import { registerRunCommands } from './run-command.js';
import { registerCatalogueCommand } from './catalogue-command.js';
import { registerCleanCommand } from './clean-command.js';
import { FAILPOINT_NAMES } from '../cluster/failpoints.js';
import { WRITE_POLICIES } from '../cluster/cache/cache-engine.js';
import { CLUSTER_SECRET_ENV, MIN_SECRET_BYTES } from '../cluster/node/peer-auth.js';
import { testAidsAllowed } from '../cluster/test-aids.js';
import { registerReportCommand } from '../reports/report-command.js';

/** The exit status of a Unix tool killed by SIGPIPE (128 + 13), which a closed stdout ends `check` and `report` with. */
export const EXIT_PIPE_CLOSED = 141;

/**
 * What a closed pipe (EPIPE: `dsync check ... --json | head -1`) does to the running command:
 * `exit` quietly with {@link EXIT_PIPE_CLOSED}, as `yes | head -1` does — for commands that only
 * print (`check`, `report`, help and usage); `ignore` the stream from then on and carry on — for
 * commands that own processes and must heal and tear them down (`run`, `suite`, `catalogue`,
 * `node`, `bench`), which still end with their verdict's exit code.
 */
type PipeClosed = 'exit' | 'ignore';
let onPipeClosed: PipeClosed = 'exit';
const closedStreams = new Set<NodeJS.WriteStream>();

/** Writes `text` unless `stream`'s reader is gone. */
function write(stream: NodeJS.WriteStream, text: string): void {
  if (!closedStreams.has(stream)) stream.write(text);
}

/**
 * Makes EPIPE on stdout and stderr quiet (no stack trace, no `Unhandled 'error' event`): see
 * {@link PipeClosed}. Any other stream error is a real one and is thrown as before. Idempotent.
 */
export function quietClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listeners('error').includes(onStreamError)) continue;
    stream.on('error', onStreamError);
  }
}

function onStreamError(this: NodeJS.WriteStream, e: NodeJS.ErrnoException): void {
  if (e.code !== 'EPIPE') throw e;
  closedStreams.add(this);
  if (onPipeClosed === 'exit') process.exit(EXIT_PIPE_CLOSED);
}

const consoleOutput: Output = {
  out: (line) => write(process.stdout, `${line}\n`),
  err: (line) => write(process.stderr, `${line}\n`),
  errRaw: (text) => write(process.stderr, text),
  tty: process.stderr.isTTY === true,
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
  if (io === consoleOutput) quietClosedPipes();
  let code: number = EXIT.valid;
  const program = new Command('dsync')
    .description('Jepsen-style testing of distributed synchronization: checkers, harness, benchmarks')
    .version(version())
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      writeErr: (s) => io.err(s.replace(/\n$/, '')),
    })
    .showHelpAfterError('(run dsync --help for usage)')
    .hook('preAction', (_program, action) => {
      onPipeClosed = ['check', 'report'].includes(action.name()) ? 'exit' : 'ignore';
    });

  program
    .command('check')
    .description('check recorded histories (Jepsen EDN or dsync JSONL) for linearizability')
    .argument('<files...>', 'history files (.edn: one map per line or one top-level vector; .jsonl: one op per line), or folders of them')
    .requiredOption('-m, --model <name>', `the model: ${modelNames().join(', ')}`)
    .option('--independent', 'values are Jepsen [key value] tuples: check each key separately with the model')
    .option('--initial <edn>', "the model's initial value in EDN, e.g. 0 for a register or '{:x 0 :y 0}' for multi-register")
    .option('--json', 'print one JSON object per file instead of text')
    .option('--timeout-ms <n>', `time budget per history; the verdict is unknown when it runs out (default ${DEFAULT_CHECK_TIMEOUT_MS}, 5 minutes)`, (v) => {
      try {
        return parseTimeoutMs(v);
      } catch (e) {
        throw new InvalidArgumentError((e as Error).message);
      }
    })
    .option(
      '--max-memory-mb <n>',
      `memory budget per history, shared by the keys searched at once; a key past its share is unknown (default ${DEFAULT_CHECK_MAX_MEMORY_MB})`,
      (v) => {
        const n = Number(v);
        if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`--max-memory-mb must be a positive integer number of MB, got '${v}'`);
        return n;
      },
    )
    .option('--stop-at-first-invalid', 'stop checking a history at its first invalid key; the keys not checked are unknown (default: check every key)')
    .action(async (files: string[], opts: { model: string; json?: boolean; timeoutMs?: number; maxMemoryMb?: number; stopAtFirstInvalid?: boolean; independent?: boolean; initial?: string }) => {
      code = await checkCommand(files, opts, io);
    });

  const int = (flag: string, min: number) => (v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${flag} must be an integer of at least ${min}, got "${v}"`);
    return n;
  };
  program
    .command('node')
    .description('run one node of the system under test in the foreground (SIGTERM stops it cleanly)')
    .requiredOption('--id <id>', 'this node\'s id, e.g. n1')
    .requiredOption('--listen <host:port>', 'address to serve the API and peer RPC on, e.g. 127.0.0.1:7001')
    .requiredOption('--peers <list>', 'every member, this one included: n1=127.0.0.1:7001,n2=127.0.0.1:7002,...')
    .requiredOption('--data <dir>', 'data dir (Raft log, hard state, snapshot); created if missing')
    .option('--log-level <level>', 'pino level: fatal, error, warn, info, debug, trace, silent (default info, or $DSYNC_LOG_LEVEL)')
    .option('--tick-ms <n>', 'Raft tick length in ms (default 20)', int('--tick-ms', 1))
    .option('--election-ticks <n>', 'ticks of silence before an election, randomized to [n, 2n); at least 4 (heartbeats go every 2 ticks) (default 10)', int('--election-ticks', 4))
    .option('--snapshot-every <n>', 'applied entries between snapshots (default 10000)', int('--snapshot-every', 1))
    .option('--max-append-entries <n>', 'most Raft log entries in one AppendEntries message (default 512)', int('--max-append-entries', 1))
    .option('--max-inflight <n>', 'most AppendEntries messages in flight, unacknowledged, to one follower (default 32)', int('--max-inflight', 1))
    .option('--audit-every <n>', 'log a digest of the replicated state every n applied entries, for comparing replicas (harness runs set it; default 0: never)', int('--audit-every', 0))
    .option('--request-timeout-ms <n>', 'how long a request waits for a commit, beyond an acquire\'s waitMs (default 5000)', int('--request-timeout-ms', 1))
    .option('--header-timeout-ms <n>', 'time to receive a request\'s headers, ms (default 10000)', int('--header-timeout-ms', 1))
    .option('--body-timeout-ms <n>', 'time to receive a request\'s body, ms; peer streams exempt, long polls unaffected (default 30000)', int('--body-timeout-ms', 1))
    .option('--idle-timeout-ms <n>', 'a connection with no request in progress is closed after this long, ms (default 65000)', int('--idle-timeout-ms', 1))
    .option('--max-connections <n>', 'most open connections on the listener; the next is answered 503 (default 1024)', int('--max-connections', 1))
    .option('--max-locks <n>', 'most locks held or waited for on the cluster; an acquire of a new one is answered 429 (default 100000)', int('--max-locks', 1))
    .option('--max-waiters-per-lock <n>', 'most waiters queued on one lock; a blocking acquire past it is answered 429 (default 1000)', int('--max-waiters-per-lock', 1))
    .option('--queue-vnodes <n>', 'points per node on the queue\'s hash ring; every node must use the same (default 128)', int('--queue-vnodes', 1))
    .option('--queue-replication <n>', 'replicas per queue (a Raft group of that many), at most the cluster size; every node must use the same (default 3)', int('--queue-replication', 1))
    .option('--max-queue-messages <n>', 'most messages pending in one queue replica group; an enqueue past it is answered 429 (default 1000000)', int('--max-queue-messages', 1))
    .option('--cache-policy <policy>', 'the cache\'s write policy: write-through (a write is in the store before it is answered) or write-back (faithful MESI: a crash loses the writes a node holds Modified) (default write-through)', (v: string) => {
      if (!(WRITE_POLICIES as readonly string[]).includes(v)) throw new InvalidArgumentError(`--cache-policy must be one of ${WRITE_POLICIES.join(', ')}, got "${v}"`);
      return v;
    })
    .option('--cache-lease-ms <n>', 'how long a node serves its copy of a cache line before asking the key\'s home again, ms (default 2000)', int('--cache-lease-ms', 1))
    .option('--cache-drift-bound <rho>', 'the bound on clock-rate drift between nodes that cache leases assume, e.g. 0.01 for 1 % (default 0.01)', (v: string) => {
      const n = Number(v);
      if (!(v.trim() !== '' && n >= 0 && n < 0.5)) throw new InvalidArgumentError(`--cache-drift-bound must be a number in [0, 0.5), got "${v}"`);
      return n;
    })
    .option('--cache-max-entries <n>', 'most cache lines a node holds, least recently used out first (default 100000)', int('--cache-max-entries', 1))
    .option('--cache-max-bytes <n>', 'most bytes of cache lines a node holds (default 67108864)', int('--cache-max-bytes', 1024))
    .option('--cache-failover-ms <n>', 'with --redis: a node not heard from for this long stops being the home of its cache keys, the next node of each key\'s preference list takes them over; 0 turns fail-over off (default 1000)', int('--cache-failover-ms', 0))
    .option('--redis <url>', 'the cache\'s main memory: a Redis server, e.g. redis://127.0.0.1:6379 (default: the node\'s own embedded store in its data dir)')
    .option('--cluster-secret-file <path>', `file holding the secret every member of the cluster shares (chmod 600; at least ${MIN_SECRET_BYTES} bytes); peer RPC must prove it. Or set $${CLUSTER_SECRET_ENV}`)
    .option('--insecure', 'run without a cluster secret: peer RPC is not authenticated (anyone who reaches the port can send Raft messages)')
    .addOption(
      // A test aid: listed and accepted only with DSYNC_TEST_AIDS=1 (nodeCommand refuses it otherwise).
      new Option('--unsafe-grant-without-quorum', 'TEST AID, breaks safety on purpose: grant locks from a table of this node\'s own, without Raft (the harness\'s tests use it to show the checker catches double grants)').hideHelp(!testAidsAllowed()),
    )
    .option('--exit-with-parent', 'stop (cleanly) when the process that started this node is gone; harnesses set it so that no node outlives them')
    .action(async (flags: NodeFlags) => {
      code = await nodeCommand(flags, io, version());
    });

  registerRunCommands(program, (c) => (code = c), io);
  registerReportCommand(program, (c) => (code = c), io);
  registerCleanCommand(program, (c) => (code = c), io);
  registerCatalogueCommand(program, (c) => (code = c), io, () => FAILPOINT_NAMES);
  const bench = registerBenchCommand(program, (c) => (code = c), io);
  registerQueueBenchCommand(bench, (c) => (code = c), io);
  registerCacheBenchCommand(bench, (c) => (code = c), io);
  registerCompareBenchCommand(bench, (c) => (code = c), io);
  registerLoadgenBenchCommand(bench, (c) => (code = c), io);

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
