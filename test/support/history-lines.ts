import type { Op } from '../../checkers/index.js';

/**
 * A history from `p f value` lines, for checker tests: an invoke is `p f [key x]`, a completion
 * `p ok|info|fail f [key x]`; values are JSON; each event's time is its index.
 */
export function historyFromLines(...events: string[]): Op[] {
  return events.map((e, index) => {
    const [p, a, b, ...rest] = e.split(' ');
    const done = a === 'ok' || a === 'info' || a === 'fail';
    const text = (done ? rest : [b, ...rest]).join(' ');
    return { index, type: done ? (a as Op['type']) : 'invoke', f: (done ? b : a) as string, value: text ? JSON.parse(text) : null, process: Number(p), time: index };
  });
}
