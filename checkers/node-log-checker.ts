/**
 * The node-log checker (`node-logs`): greps the nodes' logs after a run, as Jepsen does, and
 * makes the run invalid when a node said something that only a safety bug can make it say — a
 * guard that fired (a committed entry about to be replaced, the in-memory log out of order),
 * storage it refused to read, a fatal error or a crash with a stack trace — or when the logs
 * together show a safety violation: two nodes leader of one term, or a node that restarted with
 * a term below one it had already led (it lost its hard state, so it may vote twice in a term).
 *
 * A node log is what `dsync node` writes: pino JSON lines (`msg`, `level`, fields), plus whatever
 * reached stderr as text. Lines a kill -9 cut short are skipped. The messages matched are the
 * node's (`cluster/node/node.ts`, `cluster/raft/log.ts`, `storage-recovery.ts`); the rules only
 * miss when a line is lost, never flag a healthy run: a node logs `raft role` leader only after
 * its term and vote are durable (the votes it won answered requests it sent after its fsync).
 */
import { readFileSync } from 'node:fs';
import type { Checker, CheckerResult } from './checker.js';

/** A rule's name and what a match means (one line). */
export const NODE_LOG_RULES = [
  ['committed-truncation', 'a node was asked to replace an entry it knows committed: two leaders disagree on the committed log'],
  ['log-invariant', "a node's in-memory Raft log broke an invariant (entries not contiguous)"],
  ['storage-damage', 'a node found its data dir damaged (a file replaced whole is torn, or entries are missing): a lost write or a storage bug'],
  ['fatal', 'a node logged a fatal error (it stopped, or could not start)'],
  ['crash', 'a node process crashed with a stack trace'],
  ['two-leaders', 'two nodes were leader in the same term: some node voted twice in that term (Election Safety)'],
  ['term-regressed', 'a node restarted with a term below one it had been leader in: it lost its durable term and vote'],
] as const;

/** A rule's name. */
export type NodeLogRule = (typeof NODE_LOG_RULES)[number][0];

/** One log line a rule matched. */
export interface NodeLogMatch {
  readonly node: string;
  /** 1-based line number in the node's log. */
  readonly line: number;
  /** The line (cut at 300 characters), or a description for the rules that span lines. */
  readonly text: string;
}

/** The matches of one rule. */
export interface NodeLogRuleResult {
  readonly rule: NodeLogRule;
  readonly explanation: string;
  readonly count: number;
  /** The first few matches (at most {@link MAX_MATCHES}). */
  readonly matches: readonly NodeLogMatch[];
}

/** What the checker found. */
export interface NodeLogResult extends CheckerResult {
  readonly nodes: number;
  readonly lines: number;
  /** The rules that matched, in {@link NODE_LOG_RULES} order. */
  readonly violations: readonly NodeLogRuleResult[];
}

/** How many matches a rule lists. */
export const MAX_MATCHES = 5;

/** The rules that look at one line at a time: the first that matches a line takes it. */
const LINE_RULES: readonly (readonly [NodeLogRule, (line: string, json: Record<string, unknown> | null) => boolean])[] = [
  ['committed-truncation', (l) => l.includes('refusing to truncate committed entry')],
  ['log-invariant', (l) => /raft log: (entry \d+ is not contiguous|appending \d+ after \d+)/.test(l)],
  ['storage-damage', (l) => l.includes('BAD_RAFT_STORAGE') || l.includes('StorageFormatError')],
  ['fatal', (_l, j) => j !== null && j['level'] === 60],
  // Node's own report of an uncaught error: text lines `    at f (file:line:col)` after the message.
  ['crash', (l, j) => j === null && /^\s+at .*:\d+:\d+\)?$/.test(l)],
];

const explanation = new Map<string, string>(NODE_LOG_RULES);

const parse = (line: string): Record<string, unknown> | null => {
  if (!line.startsWith('{')) return null;
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null; // cut short by a kill -9
  }
};

/** Checks the logs' texts (node id → text). */
export function checkNodeLogs(logs: ReadonlyMap<string, string>): NodeLogResult {
  const found = new Map<NodeLogRule, NodeLogMatch[]>();
  const add = (rule: NodeLogRule, m: NodeLogMatch): void => {
    const a = found.get(rule);
    if (a) a.push(m);
    else found.set(rule, [m]);
  };
  /** term → the leaders of it, each with where it said so first. */
  const leaders = new Map<number, Map<string, NodeLogMatch>>();
  let lines = 0;
  for (const [node, text] of logs) {
    let ledTerm = 0;
    let ledAt = 0;
    const all = text.split('\n');
    for (let i = 0; i < all.length; i++) {
      const l = all[i] as string;
      if (l.length === 0) continue;
      lines++;
      const j = parse(l);
      const at = { node, line: i + 1, text: l.length > 300 ? `${l.slice(0, 300)}…` : l };
      // The crash rule matches each frame of a stack; report the block once.
      const rule = LINE_RULES.find(([, test]) => test(l, j))?.[0];
      if (rule !== undefined && !(rule === 'crash' && i > 0 && /^\s+at /.test(all[i - 1] as string))) add(rule, at);
      if (j === null) continue;
      const term = j['term'];
      if (typeof term !== 'number') continue;
      if (j['msg'] === 'raft role' && j['role'] === 'leader') {
        const byNode = leaders.get(term) ?? new Map<string, NodeLogMatch>();
        leaders.set(term, byNode);
        if (!byNode.has(node)) byNode.set(node, at);
        if (term > ledTerm) [ledTerm, ledAt] = [term, i + 1];
      } else if (j['msg'] === 'recovered' && term < ledTerm) {
        add('term-regressed', { node, line: i + 1, text: `recovered term ${term}, but it was leader in term ${ledTerm} (log line ${ledAt})` });
      }
    }
  }
  for (const [term, byNode] of [...leaders].sort((a, b) => a[0] - b[0])) {
    if (byNode.size < 2) continue;
    const [first, second] = [...byNode.values()] as [NodeLogMatch, NodeLogMatch];
    add('two-leaders', { node: second.node, line: second.line, text: `term ${term}: leaders ${[...byNode.keys()].join(', ')} (${first.node} at log line ${first.line})` });
  }

  const violations: NodeLogRuleResult[] = NODE_LOG_RULES.filter(([r]) => found.has(r)).map(([rule]) => {
    const ms = found.get(rule) as NodeLogMatch[];
    return { rule, explanation: explanation.get(rule) as string, count: ms.length, matches: ms.slice(0, MAX_MATCHES) };
  });
  const nodes = logs.size;
  const scanned = `${lines} lines of ${nodes} node log${nodes === 1 ? '' : 's'}`;
  const first = violations[0];
  if (first === undefined) return { valid: true, summary: `no safety guard fired in ${scanned}`, nodes, lines, violations };
  const m = first.matches[0] as NodeLogMatch;
  const reason = `${violations.map((v) => `${v.rule} (${v.count})`).join(', ')} in ${scanned}; first: ${first.rule} — ${first.explanation}: ${m.node} line ${m.line}: ${m.text}`;
  return { valid: false, reason, summary: reason, nodes, lines, violations };
}

/** The checker over the node logs `logFiles` (node id → path), read when it runs; a missing file is a node that never started. */
export function nodeLogChecker(logFiles: ReadonlyMap<string, string>): Checker {
  return {
    name: 'node-logs',
    check() {
      const texts = new Map<string, string>();
      for (const [node, file] of logFiles) {
        try {
          texts.set(node, readFileSync(file, 'utf8'));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
      }
      return checkNodeLogs(texts);
    },
  };
}
