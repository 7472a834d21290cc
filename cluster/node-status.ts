/**
 * What a node's `/status` says about leadership, for the backends' `leaderViews()` and
 * `leader()`: one {@link LeaderView} per answering node, and the leader they all agree on; and
 * the two things every backend asks of a node it runs: its `/status`, and its log's last lines.
 */
import { readFileSync } from 'node:fs';
import type { LeaderView } from './backend.js';

/** The `/status` answer of the node at `base` (`http://host:port`), or null when it does not answer within a second. */
export async function fetchStatus(base: string): Promise<Record<string, unknown> | null> {
  try {
    const res = await fetch(`${base}/status`, { signal: AbortSignal.timeout(1000) });
    return (await res.json()) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** The last `n` lines of the log `file`, joined with ` | ` (for error messages). */
export function logTail(file: string, n = 3): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join(' | ');
  } catch {
    return '(no log)';
  }
}

/** How many queue groups a node's `/status` says it leads. */
export function groupsLed(status: Record<string, unknown>): number {
  const services = status['services'] as { queue?: { groups?: unknown } } | undefined;
  const groups = services?.queue?.groups;
  return Array.isArray(groups) ? groups.filter((g) => (g as { role?: unknown } | null)?.role === 'leader').length : 0;
}

/** The view of `node` in its `/status` answer, or null when there is none (no answer, no term). */
export function leaderViewOf(node: string, status: Record<string, unknown> | null): LeaderView | null {
  if (!status || typeof status['term'] !== 'number') return null;
  const leader = typeof status['leader'] === 'string' ? status['leader'] : null;
  return { node, leader, term: status['term'], role: String(status['role'] ?? 'unknown'), groupsLed: groupsLed(status) };
}

/**
 * The leader that every view names, when there is one and it is among `running`; else null.
 * `views` are those of the running nodes that answered.
 */
export function agreedLeaderOf(views: readonly LeaderView[], running: readonly string[]): string | null {
  const named = new Set(views.map((v) => v.leader));
  const [only] = named;
  return named.size === 1 && typeof only === 'string' && running.includes(only) ? only : null;
}
