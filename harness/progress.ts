/**
 * The live progress lines on stderr: a run's (elapsed / limit, ops ok/fail/info, current faults),
 * and a long linearizability check's (partitions done / total, the keys being searched,
 * configurations explored). On a terminal each rewrites one line; elsewhere (CI logs) it prints
 * a line every few seconds.
 */
import type { CheckProgress } from '../checkers/checker.js';
import type { Op } from '../checkers/history/op.js';

/** Counts of completed client ops. */
export interface OpCounts {
  ok: number;
  fail: number;
  info: number;
  /** Nemesis ops (invocations). */
  nemesis: number;
}

/** Counts completions of a history as it is recorded. */
export function countEvent(c: OpCounts, e: Op): void {
  if (e.process === 'nemesis') {
    if (e.type === 'invoke') c.nemesis++;
    return;
  }
  if (e.type === 'ok') c.ok++;
  else if (e.type === 'fail') c.fail++;
  else if (e.type === 'info') c.info++;
}

/** A ticking progress line. */
export class ProgressLine {
  readonly #write: (s: string) => void;
  readonly #tty: boolean;
  readonly #render: () => string;
  #timer: NodeJS.Timeout | undefined;
  #printed = false;

  constructor(o: { write: (s: string) => void; tty: boolean; render: () => string; everyMs?: number }) {
    this.#write = o.write;
    this.#tty = o.tty;
    this.#render = o.render;
    const every = o.everyMs ?? (o.tty ? 250 : 5000);
    this.#timer = setInterval(() => this.tick(), every);
    this.#timer.unref();
  }

  /** Prints the line now. */
  tick(): void {
    const line = this.#render();
    this.#printed = true;
    if (this.#tty) this.#write(`\r\x1b[2K${line}`);
    else this.#write(`${line}\n`);
  }

  /** Stops ticking; on a terminal ends the line. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#tty && this.#printed) this.#write('\n');
  }
}

/** Options of a {@link CheckProgressLine}. */
export interface CheckProgressLineOptions {
  /** Raw stderr text. */
  readonly write: (s: string) => void;
  /** Rewrite the line in place (stderr is a terminal). */
  readonly tty: boolean;
  /** What is being checked, e.g. a file name. @default "checking" */
  readonly what?: string;
  /** Nothing is printed before the check has run this long, in milliseconds. @default 2000 */
  readonly showAfterMs?: number;
  /** Off a terminal, the least time between two printed lines, in milliseconds. @default 5000 */
  readonly everyMs?: number;
}

const grouped = (n: number): string => n.toLocaleString('en-US');

/** A check's progress in one line: "checking x.edn: 3/10 partitions, searching 4, 7; 1,234 configurations explored (12.0 s)". */
export function renderCheckProgress(p: CheckProgress, what = 'checking'): string {
  const current = p.current.length > 0 ? `, searching ${p.current.slice(0, 4).join(', ')}${p.current.length > 4 ? ', …' : ''}` : '';
  return `${what}: ${p.done}/${p.total} partition${p.total === 1 ? '' : 's'} done${current}; ${grouped(p.explored)} configurations explored (${(p.elapsedMs / 1000).toFixed(1)} s)`;
}

/**
 * The progress line of a long linearizability check on stderr, fed by the check's progress
 * callbacks: silent for short checks, then rewritten in place on a terminal, or a line every few
 * seconds elsewhere.
 */
export class CheckProgressLine {
  readonly #o: CheckProgressLineOptions;
  #printed = false;
  #lastLineAt = -Infinity;

  constructor(o: CheckProgressLineOptions) {
    this.#o = o;
  }

  /** Shows `p` if the check has run long enough (and, off a terminal, the last line is old enough). */
  update(p: CheckProgress): void {
    if (p.elapsedMs < (this.#o.showAfterMs ?? 2000)) return;
    const line = renderCheckProgress(p, this.#o.what);
    if (this.#o.tty) {
      this.#o.write(`\r\x1b[2K${line}`);
    } else {
      if (p.elapsedMs - this.#lastLineAt < (this.#o.everyMs ?? 5000)) return;
      this.#lastLineAt = p.elapsedMs;
      this.#o.write(`${line}\n`);
    }
    this.#printed = true;
  }

  /** Whether a line was printed. */
  get printed(): boolean {
    return this.#printed;
  }

  /** Ends the line on a terminal, if one was printed. */
  stop(): void {
    if (this.#o.tty && this.#printed) this.#o.write('\r\x1b[2K');
  }
}
