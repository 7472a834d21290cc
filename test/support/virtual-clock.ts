/**
 * A virtual clock for interpreter tests: time stands still while anything can still run, and
 * jumps to the earliest timer once everything waits — so runs are fast and exactly repeatable.
 *
 * "Everything waits" is detected with `setImmediate`: it runs once the microtask queue is empty,
 * i.e. when every promise chain is parked on a timer of this clock (clients in tests must wait
 * only on this clock and on promises, never on real I/O or real timers). Timers due at the same
 * time fire in the order they were set.
 */
import type { Clock } from '../../harness/generator/interpreter.js';

/** A {@link Clock} whose time advances only to fire its own timers. */
export interface VirtualClock extends Clock {
  /** Timers not yet fired or aborted. */
  readonly pending: number;
}

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
}

/** A virtual clock starting at 0 ns. */
export function virtualClock(): VirtualClock {
  let now = 0;
  let seq = 0;
  let scheduled = false;
  const timers: Timer[] = [];

  const schedule = (): void => {
    if (scheduled || timers.length === 0) return;
    scheduled = true;
    setImmediate(advance);
  };

  function advance(): void {
    scheduled = false;
    let k = 0;
    for (let i = 1; i < timers.length; i++) {
      const t = timers[i] as Timer;
      const best = timers[k] as Timer;
      if (t.at < best.at || (t.at === best.at && t.seq < best.seq)) k = i;
    }
    const [timer] = timers.splice(k, 1);
    if (timer) {
      now = Math.max(now, timer.at);
      timer.fire();
    }
    schedule();
  }

  return {
    now: () => now,
    get pending() {
      return timers.length;
    },
    sleep(ns: number, signal?: AbortSignal): Promise<void> {
      return new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        const timer: Timer = {
          at: now + Math.max(0, ns),
          seq: seq++,
          fire: () => {
            signal?.removeEventListener('abort', cancel);
            resolve();
          },
        };
        const cancel = (): void => {
          const i = timers.indexOf(timer);
          if (i >= 0) timers.splice(i, 1);
          resolve();
        };
        signal?.addEventListener('abort', cancel, { once: true });
        timers.push(timer);
        schedule();
      });
    },
  };
}
