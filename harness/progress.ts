/**
 * The live progress line of a run on stderr: elapsed / limit, ops ok/fail/info, current faults.
 * On a terminal it rewrites one line; elsewhere (CI logs) it prints a line every few seconds.
 */
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
