/**
 * Reads history files: Jepsen EDN (one map per line, or one top-level vector/list as in Knossos'
 * data files) and our JSONL (one JSON op per line).
 */
import { readFile } from 'node:fs/promises';
import { EdnSyntaxError, parseEdnForms } from './edn.js';
import { OpShapeError, toOp, type Op } from './op.js';

/** The history formats we read and write. */
export type HistoryFormat = 'edn' | 'jsonl';

/** A history that cannot be read; the message names the file, the line and what is wrong. */
export class HistoryError extends Error {
  readonly code = 'BAD_HISTORY';
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${reason}`);
    this.name = 'HistoryError';
  }
}

/** A parsed history with the source line of each op, for error messages. */
export interface ParsedHistory {
  readonly ops: Op[];
  /** `lines[i]` is the line of the file where `ops[i]` starts. */
  readonly lines: number[];
  readonly format: HistoryFormat;
}

/** File names that say they hold a history: `.edn`, or `.jsonl`/`.json`/`.ndjson`. */
export const HISTORY_FILE_RE = /\.(edn|jsonl?|ndjson)$/i;

/**
 * Which format `text` is in: by the file's extension when it says (`.edn`, `.jsonl`, `.json`),
 * otherwise by the first significant character (`{"` or `[{"` is JSON; anything else EDN).
 */
export function detectFormat(file: string, text: string): HistoryFormat {
  const ext = HISTORY_FILE_RE.exec(file)?.[1]?.toLowerCase();
  if (ext !== undefined) return ext === 'edn' ? 'edn' : 'jsonl';
  const head = text.replace(/^(\s|;[^\n]*\n)*/, '').slice(0, 2);
  return head === '{"' ? 'jsonl' : 'edn';
}

/** Parses a JSONL history. @throws HistoryError */
export function parseJsonlHistory(text: string, file = '<jsonl>'): ParsedHistory {
  const ops: Op[] = [];
  const lines: number[] = [];
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNo++;
    const raw = text.slice(start, end).trim();
    start = end + 1;
    if (raw === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(raw);
    } catch (e) {
      throw new HistoryError(file, lineNo, `invalid JSON: ${(e as Error).message}`);
    }
    try {
      ops.push(toOp(record, ops.length));
    } catch (e) {
      if (e instanceof OpShapeError) throw new HistoryError(file, lineNo, e.message);
      throw e;
    }
    lines.push(lineNo);
  }
  return { ops, lines, format: 'jsonl' };
}

/** Parses an EDN history. @throws HistoryError */
export function parseEdnHistory(text: string, file = '<edn>'): ParsedHistory {
  let forms;
  try {
    forms = parseEdnForms(text);
  } catch (e) {
    if (e instanceof EdnSyntaxError) {
      throw new HistoryError(file, e.line, `EDN syntax error at column ${e.column}: ${e.reason}`);
    }
    throw e;
  }
  const ops: Op[] = [];
  const lines: number[] = [];
  for (const form of forms) {
    try {
      ops.push(toOp(form.value, ops.length));
    } catch (e) {
      if (e instanceof OpShapeError) throw new HistoryError(file, form.line, e.message);
      throw e;
    }
    lines.push(form.line);
  }
  return { ops, lines, format: 'edn' };
}

/** Parses a history text in the given (or detected) format. @throws HistoryError */
export function parseHistory(text: string, file: string, format = detectFormat(file, text)): ParsedHistory {
  return format === 'edn' ? parseEdnHistory(text, file) : parseJsonlHistory(text, file);
}

/** Reads and parses a history file. @throws HistoryError (also when the file cannot be read) */
export async function readHistory(file: string, format?: HistoryFormat): Promise<ParsedHistory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === 'ENOENT'
        ? 'no such file'
        : err.code === 'EISDIR'
          ? 'is a directory, not a history file'
          : err.code === 'EACCES'
            ? 'permission denied'
            : err.message;
    throw new HistoryError(file, undefined, why);
  }
  return parseHistory(text, file, format);
}
