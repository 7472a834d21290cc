/**
 * The cross-key fencing checker (`fencing-tokens`): the lock contract says a grant's token is
 * larger than every earlier grant's, on every lock — tokens come from the Raft log index, and the
 * lock table hands out `max(lastToken + 1, index)` for each grant, so even the shared waiters one
 * release grants at once get distinct tokens. A per-key model (`fenced-lock`) cannot see a token
 * given out again on another lock; this checker looks across all of them:
 *
 * - **unique**: no two grants (a lock and a holding process) carry the same token. The grants are
 *   the ok acquires (`[lock token]`) and the holders ok reads returned (`[lock [[process token]
 *   ...]]`), which also shows the tokens of grants whose acquire was `info`;
 * - **increasing in real time**: when an ok acquire A completed before an ok acquire B was
 *   invoked, token(A) < token(B).
 *
 * `info` and `fail` ops say nothing here.
 */
import type { Checker, CheckerResult } from './checker.js';
import { completeHistory, type CompletedOp } from './history/complete.js';
import type { History, ProcessId } from './history/op.js';
import { canonical, describeValue } from './values.js';

/** One grant seen in the history: by an ok acquire, or as a holder an ok read returned. */
interface Grant {
  readonly lock: unknown;
  readonly process: ProcessId;
  readonly token: number;
  /** The op that showed it (acquire or read). */
  readonly op: CompletedOp;
}

/** At most this many violations are listed in a result. */
const MAX_LISTED = 10;

const tokenOf = (v: unknown): number | undefined => {
  const n = typeof v === 'bigint' ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : undefined;
};

const describeGrant = (g: Grant): string =>
  `process ${describeValue(g.process)} on ${describeValue(g.lock)} (${g.op.f} invoked at event ${g.op.invoke.index})`;

/** The grants the history's ok acquires and ok reads show. */
function grantsOf(ops: readonly CompletedOp[]): { acquires: Grant[]; read: Grant[] } {
  const acquires: Grant[] = [];
  const read: Grant[] = [];
  for (const op of ops) {
    if (op.type !== 'ok' || !Array.isArray(op.value) || op.value.length !== 2) continue;
    const [lock, x] = op.value as [unknown, unknown];
    if (op.f === 'acquire' || op.f === 'acquire-shared') {
      const token = tokenOf(x);
      if (token !== undefined) acquires.push({ lock, process: op.process, token, op });
    } else if (op.f === 'read' && Array.isArray(x)) {
      for (const h of x as unknown[]) {
        if (!Array.isArray(h) || h.length !== 2) continue;
        const token = tokenOf(h[1]);
        const process = typeof h[0] === 'bigint' ? Number(h[0]) : h[0];
        if (token !== undefined && (typeof process === 'number' || typeof process === 'string')) read.push({ lock, process, token, op });
      }
    }
  }
  return { acquires, read };
}

/** Checks the fencing tokens of a lock history across all locks (see the module doc). */
export function checkFencingTokens(history: History): CheckerResult {
  const ops = completeHistory(history);
  const { acquires, read } = grantsOf(ops);
  const violations: string[] = [];
  let duplicates = 0;
  let reordered = 0;

  // Unique: one grant (lock, process) per token.
  const byToken = new Map<number, { id: string; grant: Grant }>();
  for (const g of [...acquires, ...read]) {
    const id = `${canonical(g.lock)} ${canonical(g.process)}`;
    const first = byToken.get(g.token);
    if (first === undefined) byToken.set(g.token, { id, grant: g });
    else if (first.id !== id) {
      duplicates++;
      if (violations.length < MAX_LISTED) violations.push(`token ${g.token} granted twice: to ${describeGrant(first.grant)} and to ${describeGrant(g)}`);
    }
  }

  // Increasing in real time: sweep the acquires by invocation, with the largest token of those
  // that completed before.
  const byRet = [...acquires].sort((a, b) => a.op.ret - b.op.ret);
  const byCall = [...acquires].sort((a, b) => a.op.call - b.op.call);
  let done = 0;
  let max: Grant | undefined;
  for (const b of byCall) {
    for (; done < byRet.length && (byRet[done] as Grant).op.ret < b.op.call; done++) {
      const a = byRet[done] as Grant;
      if (max === undefined || a.token > max.token) max = a;
    }
    if (max !== undefined && max.token >= b.token) {
      reordered++;
      if (violations.length < MAX_LISTED) {
        violations.push(`token ${b.token} of ${describeGrant(b)} is not larger than token ${max.token} of ${describeGrant(max)}, which completed before it was invoked`);
      }
    }
  }

  const locks = new Set([...acquires, ...read].map((g) => canonical(g.lock))).size;
  const counts = { grants: acquires.length, readHolders: read.length, tokens: byToken.size, locks, duplicates, reordered };
  if (duplicates + reordered > 0) {
    const reason = `fencing tokens: ${duplicates} duplicate and ${reordered} out-of-order grant${duplicates + reordered === 1 ? '' : 's'} across ${locks} locks; first: ${violations[0]}`;
    return { valid: false, reason, summary: reason, ...counts, violations };
  }
  return {
    valid: true,
    summary: `fencing tokens unique and increasing in real time across ${locks} lock${locks === 1 ? '' : 's'}: ${acquires.length} grants, ${read.length} holders read`,
    ...counts,
    violations,
  };
}

/** The cross-key fencing-token checker, `fencing-tokens`. */
export function fencingTokensChecker(): Checker {
  return { name: 'fencing-tokens', check: (history) => checkFencingTokens(history) };
}
