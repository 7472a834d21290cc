/**
 * What a node's `/status` says about leadership, for the backends' `leaderViews()` and
 * `leader()`: one {@link LeaderView} per answering node, and the leader they all agree on.
 */
import type { LeaderView } from './backend.js';

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
