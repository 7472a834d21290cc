/**
 * Real partitions for containers: iptables DROP rules in the network namespace of the node that
 * receives, applied from this machine with `nsenter -t <container pid> -n iptables...` in the
 * local mode (nothing but Node.js is needed inside the containers), or inside the container
 * through the engine's exec API in the remote mode (`exec-shell.ts`). Every rule lives in a chain of our own, `DSYNC`,
 * jumped to from `INPUT`, so that healing flushes exactly the rules we added.
 *
 * A cut link `from → to` (the connections `from` opens to `to`, as on the local backend's link
 * proxies) is one rule in `to`'s namespace: drop TCP from `from`'s address to `to`'s node port.
 * Replies on connections `to` opened to `from` come from `from`'s node port, not to it, so they
 * pass: a one-way cut stays one-way. A chain is replaced whole in one `iptables-restore
 * --noflush` transaction, so no packet slips through while it changes.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';

/** Our chain in each container's `filter` table. */
export const CHAIN = 'DSYNC';

/** The programs the rules need on this machine (Debian: util-linux, iptables). */
const TOOLS = ['nsenter', 'iptables', 'iptables-restore'] as const;

/** How long one iptables call may take (it waits for the xtables lock), ms. */
const CALL_TIMEOUT_MS = 10_000;

/** One DROP rule: packets from `source` to the node port. */
export interface DropRule {
  /** The sender's address, e.g. `10.213.7.11`. */
  readonly source: string;
}

/** A DROP rule with its counters, as iptables reports them. */
export interface DropCount extends DropRule {
  readonly packets: number;
  readonly bytes: number;
}

/** Why rules cannot be applied from this process (not root, a tool missing), or null when they can. */
export function linkRulesUnavailable(env: NodeJS.ProcessEnv = process.env): string | null {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return 'iptables rules in the containers\' namespaces are applied with nsenter, which needs root';
  }
  const dirs = [...(env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  const missing = TOOLS.filter((t) => !dirs.some((d) => isExecutable(join(d, t))));
  return missing.length === 0 ? null : `${missing.join(' and ')} not found on this machine (Debian: apt-get install iptables util-linux)`;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where the rules are applied: runs `iptables` (`argv[0]` is `iptables` or `iptables-restore`)
 * with its arguments and `input` on stdin in one node's network namespace; resolves to its stdout,
 * rejects with its stderr.
 */
export type RuleShell = (argv: readonly string[], input?: string) => Promise<string>;

/** A {@link RuleShell} entering the network namespace of process `pid` of this machine with nsenter. */
export function nsenterShell(pid: number): RuleShell {
  return (argv, input) => inNamespace(pid, argv, input);
}

const shellOf = (where: number | RuleShell): RuleShell => (typeof where === 'number' ? nsenterShell(where) : where);

/** Runs `argv` in the network namespace of process `pid`; rejects with its stderr. */
async function inNamespace(pid: number, argv: readonly string[], input?: string): Promise<string> {
  const r = await execa('nsenter', ['-t', String(pid), '-n', ...argv], {
    reject: false,
    timeout: CALL_TIMEOUT_MS,
    ...(input !== undefined ? { input } : {}),
    env: { PATH: `${process.env['PATH'] ?? ''}${delimiter}/usr/sbin${delimiter}/sbin` },
  });
  if (r.exitCode !== 0) throw new Error(`nsenter -t ${pid} -n ${argv.join(' ')}: ${String(r.stderr || r.stdout).trim() || `exit ${String(r.exitCode ?? r.signal)}`}`);
  return String(r.stdout);
}

/** The `iptables-restore --noflush` input that makes our chain hold exactly `rules` (and, with `jump`, adds the jump from INPUT). */
export function chainRestore(rules: readonly DropRule[], port: number, jump: boolean): string {
  const lines = ['*filter', `:${CHAIN} - [0:0]`, ...(jump ? [`-I INPUT 1 -j ${CHAIN}`] : [])];
  for (const r of rules) lines.push(`-A ${CHAIN} -s ${r.source}/32 -p tcp --dport ${port} -j DROP`);
  return `${[...lines, 'COMMIT'].join('\n')}\n`;
}

/**
 * Makes the chain in a namespace (`where`: a pid of this machine, or a {@link RuleShell}) hold
 * exactly `rules` for the node port `port`, in one transaction. `install`: the namespace is new
 * (a container just started) — the chain and its jump from INPUT are created as well.
 */
export async function setDropRules(where: number | RuleShell, port: number, rules: readonly DropRule[], install: boolean): Promise<void> {
  await shellOf(where)(['iptables-restore', '-w', '--noflush'], chainRestore(rules, port, install));
}

/** The DROP rules in a namespace (a pid of this machine, or a {@link RuleShell}) with their packet counters (empty: none, or no chain yet). */
export async function dropCounts(where: number | RuleShell): Promise<DropCount[]> {
  let out: string;
  try {
    out = await shellOf(where)(['iptables', '-w', '-L', CHAIN, '-v', '-n', '-x']);
  } catch (e) {
    if (/No chain|does not exist/i.test((e as Error).message)) return [];
    throw e;
  }
  // `   pkts   bytes target prot opt in out source destination ...`, two header lines first.
  return out
    .split('\n')
    .slice(2)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[2] === 'DROP' && f[7] !== undefined)
    .map((f) => ({ packets: Number(f[0]), bytes: Number(f[1]), source: f[7] as string }));
}
