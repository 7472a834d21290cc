/**
 * `dsync check`: checks recorded histories (Jepsen EDN or our JSONL) for linearizability, one
 * verdict per file. Exit code: 0 all valid, 1 any invalid, 2 any unknown (none invalid), 3 bad
 * input or usage.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  EXIT_CODES as EXIT,
  checkHistoryAsync,
  findModel,
  EdnSyntaxError,
  HistoryError,
  HISTORY_FILE_RE,
  independent,
  ModelConfigError,
  parseEdn,
  ModelInputError,
  modelNames,
  PairingError,
  readHistory,
  type LinearizabilityResult,
  type Model,
  type OpRef,
  type ParallelCheckOptions,
  type ParsedHistory,
} from '../checkers/index.js';
import { CheckProgressLine } from './progress.js';

/** The time budget of `dsync check` per history when `--timeout-ms` is not given: 5 minutes. */
export const DEFAULT_CHECK_TIMEOUT_MS = 300_000;
/** The memory budget of `dsync check` per history when `--max-memory-mb` is not given. */
export const DEFAULT_CHECK_MAX_MEMORY_MB = 2048;

/** Options of `dsync check`, as parsed from the command line. */
export interface CheckCommandOptions {
  readonly model: string;
  readonly json?: boolean;
  /** Time budget per history, in milliseconds. @default {@link DEFAULT_CHECK_TIMEOUT_MS} */
  readonly timeoutMs?: number;
  /** Memory budget per history, in MB, shared by the searches running at once. @default {@link DEFAULT_CHECK_MAX_MEMORY_MB} */
  readonly maxMemoryMb?: number;
  /** Stop checking a history at its first invalid partition. @default false (every partition is checked) */
  readonly stopAtFirstInvalid?: boolean;
  readonly independent?: boolean;
  /** The model's initial value, in EDN text. */
  readonly initial?: string;
  /** How often the check reports progress, in milliseconds (tests set it small). @default 500 on a terminal, else 1000 */
  readonly progressEveryMs?: number;
  /** Progress is shown once a check has run this long, in milliseconds. @default 2000 */
  readonly progressAfterMs?: number;
}

/** Where `dsync check` writes. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
  /** Raw stderr text, for the progress line; without it no progress is shown. */
  errRaw?(text: string): void;
  /** Whether stderr is a terminal (the progress line is rewritten in place). @default false */
  readonly tty?: boolean;
}

const fmtMs = (ms: number): string => (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0));

function describeOp(op: OpRef, lineOf: (index: number) => number | undefined): string {
  const line = lineOf(op.index);
  const result = op.type === 'ok' ? ` → ${op.value}` : ' (info: outcome unknown)';
  return `op ${op.index}${line === undefined ? '' : ` (line ${line})`}: process ${String(op.process)} ${op.f} ${op.invoke}${result}`;
}

/** Why the verdict is unknown, in words: the time budget with its size when it ran out. */
function unknownReason(r: LinearizabilityResult, timeoutMs: number): string | undefined {
  if (r.partitions.some((p) => p.limit === 'time')) return `time budget of ${timeoutMs} ms ran out`;
  return r.reason;
}

/** Human-readable lines for one file's result. */
function describeResult(file: string, r: LinearizabilityResult, parsed: ParsedHistory, timeoutMs: number): string[] {
  const positions = new Map<number, number>();
  parsed.ops.forEach((op, i) => positions.set(op.index, i));
  const lineOf = (index: number): number | undefined => {
    const pos = positions.get(index);
    return pos === undefined ? undefined : parsed.lines[pos];
  };
  const nParts = r.partitions.length;
  const head = `${file}: ${r.valid === true ? 'valid' : r.valid === false ? 'INVALID' : 'unknown'} — ${r.ops} ops, ${nParts} partition${nParts === 1 ? '' : 's'}, ${fmtMs(r.checkMs)} ms`;
  const why = r.valid === 'unknown' ? unknownReason(r, timeoutMs) : r.note;
  const lines = [why ? `${head} (${why})` : head];
  for (const p of r.partitions) {
    if (p.valid !== false) continue;
    const key = p.key === null ? '' : ` for key ${JSON.stringify(p.key) ?? String(p.key)}`;
    const steps = p.longest ?? [];
    lines.push(`  not linearizable${key}: the longest linearization found has ${steps.length} of ${p.ops} ops, and then`);
    if (p.stuck) lines.push(`    cannot linearize ${describeOp(p.stuck, lineOf)}`);
    const tail = steps.slice(-5);
    if (tail.length > 0) lines.push(`    its last ${tail.length === 1 ? 'step' : `${tail.length} steps`}:`);
    for (const s of tail) lines.push(`      ${describeOp(s.op, lineOf)}  ⇒ ${s.state}`);
  }
  return lines;
}

/** Parses `--timeout-ms`. @throws Error naming the bad value */
export function parseTimeoutMs(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n <= 0) {
    throw new Error(`--timeout-ms must be a positive integer number of milliseconds, got '${v}'`);
  }
  return n;
}

/** The files to check: each argument, or every history file inside an argument that is a folder. */
async function expandArgs(args: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const arg of args) {
    let isDir = false;
    try {
      isDir = (await stat(arg)).isDirectory();
    } catch {
      // a missing file is reported when it is read
    }
    if (!isDir) {
      out.push(arg);
      continue;
    }
    const entries = await readdir(arg, { recursive: true, withFileTypes: true });
    const inside = entries
      .filter((e) => e.isFile() && HISTORY_FILE_RE.test(e.name))
      .map((e) => join(e.parentPath, e.name))
      .sort();
    if (inside.length === 0) throw new HistoryError(arg, undefined, 'no history files (*.edn, *.jsonl) in this folder');
    out.push(...inside);
  }
  return out;
}

/**
 * Runs `dsync check` over `args` (history files, or folders whose history files are all checked);
 * returns the exit code.
 */
export async function checkCommand(args: readonly string[], opts: CheckCommandOptions, io: Output): Promise<number> {
  let files: string[];
  try {
    files = await expandArgs(args);
  } catch (e) {
    if (!(e instanceof HistoryError)) throw e;
    io.err(`dsync check: ${e.message}`);
    return EXIT.error;
  }
  const base = findModel(opts.model);
  if (base === undefined) {
    io.err(`dsync check: unknown model '${opts.model}'; models: ${modelNames().join(', ')}`);
    return EXIT.error;
  }
  const model: Model = opts.independent ? independent(base) : base;
  let initial: unknown;
  if (opts.initial !== undefined) {
    if (base.initialValue === undefined) {
      io.err(`dsync check: model ${base.name} takes no --initial value`);
      return EXIT.error;
    }
    try {
      initial = parseEdn(opts.initial);
    } catch (e) {
      if (!(e instanceof EdnSyntaxError)) throw e;
      io.err(`dsync check: --initial is not valid EDN (${e.reason}); it sets ${base.initialValue}`);
      return EXIT.error;
    }
  }
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const checkOptions: ParallelCheckOptions = {
    timeoutMs,
    maxMemoryMb: opts.maxMemoryMb ?? DEFAULT_CHECK_MAX_MEMORY_MB,
    stopAtFirstInvalid: opts.stopAtFirstInvalid ?? false,
    ...(opts.initial === undefined ? {} : { initial }),
  };
  const errRaw = io.errRaw?.bind(io);
  let exit: number = EXIT.valid;
  const counts = { valid: 0, invalid: 0, unknown: 0, error: 0 };
  let totalMs = 0;
  for (const file of files) {
    let parsed: ParsedHistory | undefined;
    try {
      parsed = await readHistory(file);
      const line = errRaw && new CheckProgressLine({ write: errRaw, tty: io.tty ?? false, what: `checking ${file}`, ...(opts.progressAfterMs === undefined ? {} : { showAfterMs: opts.progressAfterMs }) });
      let result: LinearizabilityResult;
      try {
        result = await checkHistoryAsync(parsed.ops, model, {
          ...checkOptions,
          ...(line ? { onProgress: (p) => line.update(p), progressEveryMs: opts.progressEveryMs ?? (io.tty ? 500 : 1000) } : {}),
        });
      } finally {
        line?.stop();
      }
      totalMs += result.checkMs;
      if (result.valid === true) counts.valid++;
      else if (result.valid === false) counts.invalid++;
      else counts.unknown++;
      if (opts.json) {
        const reason = result.valid === 'unknown' ? unknownReason(result, timeoutMs) : undefined;
        io.out(
          JSON.stringify({
            file,
            valid: result.valid,
            ops: result.ops,
            checkMs: Math.round(result.checkMs * 1000) / 1000,
            model: result.model,
            ...(reason ? { reason } : {}),
            ...(result.note ? { note: result.note } : {}),
            partitions: result.partitions,
          }),
        );
      } else {
        for (const l of describeResult(file, result, parsed, timeoutMs)) io.out(l);
      }
    } catch (e) {
      if (e instanceof ModelConfigError) {
        io.err(`dsync check: ${e.message}`);
        return EXIT.error;
      }
      const message = explainError(file, e, parsed);
      if (message === undefined) throw e;
      counts.error++;
      if (opts.json) io.out(JSON.stringify({ file, valid: 'unknown', error: message }));
      io.err(`dsync check: ${message}`);
    }
  }
  if (files.length > 1 && !opts.json) {
    io.out(`${files.length} files: ${counts.valid} valid, ${counts.invalid} invalid, ${counts.unknown} unknown, ${counts.error} unreadable; ${fmtMs(totalMs)} ms checking`);
  }
  if (counts.error > 0) exit = EXIT.error;
  else if (counts.invalid > 0) exit = EXIT.invalid;
  else if (counts.unknown > 0) exit = EXIT.unknown;
  return exit;
}

/** `file:line: what is wrong` for bad input; undefined for anything else (a bug). */
function explainError(file: string, e: unknown, parsed: ParsedHistory | undefined): string | undefined {
  if (e instanceof HistoryError) return e.message;
  if (e instanceof PairingError) {
    const line = parsed?.lines[e.at];
    return `${file}${line === undefined ? '' : `:${line}`}: ${e.reason}`;
  }
  if (e instanceof ModelInputError) {
    const line = parsed?.lines[e.op.call];
    return `${file}${line === undefined ? '' : `:${line}`}: ${e.reason}`;
  }
  return undefined;
}
