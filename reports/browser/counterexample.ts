/**
 * Counterexamples, Porcupine style (hand-made HTML and SVG): the ops of a partition without a
 * linearization as bars on a time axis, one row per process, the longest linearization's steps
 * numbered, and the op it could not take next (`.breaking`) in red, in the bars and the table.
 */
namespace DsyncReport {
  const VIEW_W = 960;
  const LABEL_W = 86;
  const RIGHT_PAD = 28;
  const ROW_H = 30;
  const BAR_H = 16;
  const AXIS_H = 30;

  /** Fills `#counterexamples` (or says there are none). */
  export function drawCounterexamples(data: ReportData): void {
    const root = byId('counterexamples');
    root.replaceChildren();
    if (data.counterexamples.length === 0) {
      const linear = data.verdicts.some((v) => v.checker.includes('linear'));
      root.append(
        h('p', { class: 'muted' },
          linear && data.run.valid === true
            ? 'None: every partition has a linearization.'
            : 'None: the checkers found no op history without a linearization.'),
      );
      return;
    }
    data.counterexamples.forEach((cx, i) => root.append(counterexampleView(cx, i)));
  }

  /** The ops in table order: linearized by step, then the breaking op, then the others by start. */
  function tableOrder(ops: readonly CounterexampleOp[]): CounterexampleOp[] {
    const rank = (o: CounterexampleOp): number => (o.step !== null ? o.step : o.breaking ? 1e15 : 2e15);
    return [...ops].sort((a, b) => rank(a) - rank(b) || a.startMs - b.startMs || a.id - b.id);
  }

  /** One counterexample: heading, sentences, the bars and the step table, wired for hovering. */
  function counterexampleView(cx: Counterexample, index: number): HTMLElement {
    const verdict = cx.valid === true ? 'valid' : cx.valid === false ? 'invalid' : 'unknown';
    const breaking = cx.ops.find((o) => o.breaking);
    const lastStep = cx.ops.find((o) => o.step === cx.steps);
    const article = h('article', { class: 'counterexample', id: `counterexample-${index + 1}`, 'data-key': cx.key },
      h('header', { class: 'cx-head' },
        h('h3', {}, 'key ', h('code', {}, cx.key)),
        h('span', { class: `pill ${verdict}` }, verdict),
        h('span', { class: 'muted' }, `model ${cx.model} · longest linearization: ${fmtInt(cx.steps)} step${cx.steps === 1 ? '' : 's'} · ${cx.ops.length} ops shown`),
      ),
      h('p', { class: 'cx-summary' }, cx.summary),
    );
    if (breaking !== undefined) {
      const from = cx.steps === 0 ? ['the initial state'] : ['state ', h('code', {}, lastStep?.stateAfter ?? '?'), ` (after step ${cx.steps})`];
      article.append(
        h('p', { class: 'cx-break' },
          h('strong', {}, `step ${cx.steps + 1}: `),
          h('code', { class: 'breaking-op' }, opWords(breaking)),
          ` by process ${breaking.process} cannot be linearized from `,
          ...from,
          '.'),
      );
    }
    if (cx.omittedSteps > 0) {
      article.append(h('p', { class: 'muted' }, `The first ${fmtInt(cx.omittedSteps)} steps are not shown.`));
    }
    const hover = h('p', { class: 'cx-hover muted' }, 'Hover an op to see the model state after it.');
    const ordered = tableOrder(cx.ops);
    const idx = new Map(ordered.map((o, i) => [o, i]));
    const bars = barsSvg(cx, idx);
    const table = stepTable(ordered, cx);
    article.append(h('div', { class: 'cx-bars' }, bars), hover, table);
    wireHover(article, ordered, cx, hover);
    return article;
  }

  /** An op in words: `acquire nil → 6` (`?` for an op that never returned). */
  function opWords(o: CounterexampleOp): string {
    return `${o.f} ${o.call} → ${o.endMs === null ? '?' : o.ret}${o.outcome === 'ok' ? '' : ` (${o.outcome})`}`;
  }

  /** What hovering an op says. */
  function hoverWords(o: CounterexampleOp, cx: Counterexample): string {
    if (o.step !== null) return `After step ${o.step} (${opWords(o)}, process ${o.process}): ${o.stateAfter ?? '?'}`;
    if (o.breaking) return `Step ${cx.steps + 1} would be ${opWords(o)} (process ${o.process}), but no state allows it.`;
    return `${opWords(o)} (process ${o.process}) is not in the longest linearization.`;
  }

  /** The bars: one row per process, x scaled to the ops' span, step numbers on linearized ops. */
  function barsSvg(cx: Counterexample, idx: ReadonlyMap<CounterexampleOp, number>): SVGSVGElement {
    const procs = cx.processes;
    const t0 = Math.min(...cx.ops.map((o) => o.startMs));
    const lastEnd = Math.max(...cx.ops.map((o) => o.endMs ?? o.startMs));
    const open = cx.ops.some((o) => o.endMs === null);
    const t1 = Math.max(lastEnd + (open ? Math.max((lastEnd - t0) * 0.06, 1) : 0), t0 + 1);
    const plotW = VIEW_W - LABEL_W - RIGHT_PAD;
    const x = (t: number): number => LABEL_W + ((t - t0) / (t1 - t0)) * plotW;
    const height = procs.length * ROW_H + AXIS_H;
    const root = svg('svg', { viewBox: `0 0 ${VIEW_W} ${height}`, width: '100%', role: 'img', 'aria-label': `ops of key ${cx.key}` });

    procs.forEach((p, r) => {
      const y = r * ROW_H;
      if (r % 2 === 0) root.append(svg('rect', { x: 0, y, width: VIEW_W, height: ROW_H, class: 'cx-row' }));
      root.append(svg('text', { x: LABEL_W - 10, y: y + ROW_H / 2, class: 'cx-proc' }, `process ${p}`));
    });
    for (const tick of niceTicks(t0, t1, 6)) {
      const tx = x(tick);
      root.append(
        svg('line', { x1: tx, x2: tx, y1: 0, y2: procs.length * ROW_H + 4, class: 'cx-grid' }),
        svg('text', { x: tx, y: procs.length * ROW_H + 18, class: 'cx-tick' }, `${(tick / 1000).toFixed(tickDigits(t1 - t0))} s`),
      );
    }
    for (const o of cx.ops) {
      const r = procs.indexOf(o.process);
      const y = r * ROW_H + (ROW_H - BAR_H) / 2;
      const xa = x(o.startMs);
      const xb = o.endMs === null ? x(t1) : x(o.endMs);
      const w = Math.max(xb - xa, 2);
      const kind = o.breaking ? 'breaking' : o.step !== null ? 'linearized' : 'concurrent';
      const g = svg('g', { class: `cx-op ${kind}${o.endMs === null ? ' open' : ''}`, 'data-idx': idx.get(o) ?? 0 },
        svg('title', {}, `${opWords(o)} · process ${o.process} · ${fmtTime(o.startMs)} → ${o.endMs === null ? 'never returned' : fmtTime(o.endMs)}`),
        svg('rect', { x: xa, y, width: w, height: BAR_H, rx: 2 }),
      );
      const label = o.step !== null ? String(o.step) : o.breaking ? `${cx.steps + 1} ✗` : '';
      const lx = Math.min(Math.max(xa + w / 2, LABEL_W + 8), VIEW_W - 14);
      if (label !== '') g.append(svg('text', { x: lx, y: y + BAR_H / 2, class: 'cx-step' }, label));
      root.append(g);
    }
    return root;
  }

  /** About `count` round tick values between `a` and `b`. */
  function niceTicks(a: number, b: number, count: number): number[] {
    const raw = (b - a) / count;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
    const ticks: number[] = [];
    for (let t = Math.ceil(a / step) * step; t <= b + 1e-9; t += step) ticks.push(t);
    return ticks;
  }

  /** Decimals for tick labels in seconds over a span of `spanMs`. */
  function tickDigits(spanMs: number): number {
    return spanMs >= 10000 ? 1 : spanMs >= 1000 ? 2 : spanMs >= 100 ? 3 : 4;
  }

  /** The step table: step, process, f, call → ret, times, state after. */
  function stepTable(ordered: readonly CounterexampleOp[], cx: Counterexample): HTMLTableElement {
    const head = h('tr', {}, ...['step', 'process', 'op', 'call → ret', 'invoked → completed', 'state after'].map((c) => h('th', {}, c)));
    const rows = ordered.map((o, i) => {
      const cls = o.breaking ? 'breaking' : o.step !== null ? 'linearized' : 'concurrent';
      return h('tr', { class: cls, 'data-idx': String(i) },
        h('td', { class: 'num' }, o.step !== null ? String(o.step) : o.breaking ? `${cx.steps + 1} ✗` : '—'),
        h('td', { class: 'num' }, o.process),
        h('td', {}, o.f, o.outcome === 'ok' ? '' : h('span', { class: 'muted' }, ` (${o.outcome})`)),
        h('td', {}, h('code', {}, o.call), ' → ', h('code', {}, o.endMs === null ? '?' : o.ret)),
        h('td', { class: 'num' }, `${fmtTime(o.startMs)} → ${o.endMs === null ? 'never' : fmtTime(o.endMs)}`),
        h('td', { class: 'state' }, o.stateAfter ?? (o.breaking ? 'cannot be linearized' : 'not linearized')),
      );
    });
    return h('table', { class: 'cx-steps data' }, h('thead', {}, head), h('tbody', {}, ...rows));
  }

  /** Hovering a bar or a row highlights both and shows the state after that op. */
  function wireHover(article: HTMLElement, ordered: readonly CounterexampleOp[], cx: Counterexample, out: HTMLElement): void {
    const idle = out.textContent ?? '';
    const set = (i: string | null): void => {
      for (const e of article.querySelectorAll('.hover')) e.classList.remove('hover');
      const op = i === null ? undefined : ordered[Number(i)];
      if (op === undefined || i === null) {
        out.textContent = idle;
        out.classList.add('muted');
        return;
      }
      for (const e of article.querySelectorAll(`[data-idx="${i}"]`)) e.classList.add('hover');
      out.textContent = hoverWords(op, cx);
      out.classList.remove('muted');
    };
    for (const e of article.querySelectorAll('[data-idx]')) {
      e.addEventListener('mouseenter', () => set(e.getAttribute('data-idx')));
      e.addEventListener('mouseleave', () => set(null));
    }
  }
}
