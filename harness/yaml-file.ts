/**
 * YAML config files whose errors name the file, the line and the field: parsing with line
 * positions, and zod issues turned into `file:line: field: message, got value` lines. Used by
 * experiments and by the bug catalogue.
 */
import { LineCounter, parseDocument, isNode } from 'yaml';
import type { z } from 'zod';

/** A parsed YAML map and where each of its fields is. */
export interface YamlMap {
  readonly raw: Record<string, unknown>;
  /** `file:line` of the deepest node of `path` present in the document (the file alone if none). */
  readonly where: (path: readonly PropertyKey[]) => string;
}

/** A value for a message: JSON, cut at 60 characters. */
export function describeYamlValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/**
 * Parses YAML `text` from `file` that must be a map; `expected` says what it should hold, for
 * the message when it is not.
 * @throws the error `fail` makes of a message naming the file and line
 */
export function parseYamlMap(text: string, file: string, expected: string, fail: (message: string) => Error): YamlMap {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line;
    throw fail(`${file}:${line}: not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw fail(`${file}:1: expected a map of ${expected}, got ${describeYamlValue(raw)}`);
  }
  const where = (path: readonly PropertyKey[]): string => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as (string | number)[], true);
      if (isNode(node) && node.range) return `${file}:${lineCounter.linePos(node.range[0]).line}`;
    }
    return file;
  };
  return { raw: raw as Record<string, unknown>, where };
}

/** One line per issue: `where: field: message, got value` (an unknown key is named by itself). */
export function issueLines(issues: readonly z.core.$ZodIssue[], raw: unknown, where: (path: readonly PropertyKey[]) => string): string[] {
  return issues.map((issue) => {
    const path = issue.code === 'unrecognized_keys' && issue.keys.length === 1 ? [...issue.path, issue.keys[0] as string] : issue.path;
    const field = path.length > 0 ? path.map(String).join('.') : '(top level)';
    const gotText = issue.code === 'unrecognized_keys' ? '' : `, got ${describeYamlValue(valueAt(raw, path))}`;
    return `${where(path)}: ${field}: ${issue.message}${gotText}`;
  });
}
