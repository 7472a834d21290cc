/** The timeline: one lane per process, each client op a bar from invocation to completion. */
namespace DsyncReport {
  /** Ops drawn when the page opens (the initial zoom covers at most this many). */
  const INITIAL_OPS = 2000;
  /** Lanes shown at once; more get a y slider. */
  const VISIBLE_LANES = 30;
  const LANE_PX = 18;

  /** A rectangle in pixels (the plot area of a cartesian chart). */
  interface PxRect {
    x: number;
    y: number;
    width: number;
    height: number;
  }

  /** Draws `data.timeline` into `#timeline` and says above it which part of the run it shows. */
  export function drawTimeline(data: ReportData): void {
    const t = data.timeline;
    const n = t.lane.length;
    const caption = byId('timeline-caption');
    const w = t.window;
    const span = `${fmtSeconds(w.startMs / 1000)}–${fmtSeconds(w.endMs / 1000)} s`;
    caption.textContent =
      w.shown < w.total
        ? `Showing ${fmtInt(w.shown)} of ${fmtInt(w.total)} ops, ${span}. `
        : `${fmtInt(n)} ops, ${span}. `;
    if (n === 0) {
      emptyChart('timeline', 'No client ops.');
      return;
    }
    caption.textContent += 'Scroll or drag to zoom and pan; hover an op for details.';

    const perOutcome: number[][][] = [[], [], []];
    for (let i = 0; i < n; i++) {
      const o = t.outcome[i] ?? 2;
      perOutcome[o]?.push([(t.startMs[i] ?? 0) / 1000, (t.endMs[i] ?? 0) / 1000, t.lane[i] ?? 0, i]);
    }

    const lanes = t.lanes.length;
    const manyLanes = lanes > VISIBLE_LANES;
    const shownLanes = Math.max(1, Math.min(lanes, VISIBLE_LANES));
    const height = Math.max(240, shownLanes * LANE_PX + 120);
    const chart = initChart('timeline', height);
    const minS = Math.floor(w.startMs / 100) / 10;
    const maxS = Math.max(Math.ceil(w.endMs / 100) / 10, minS + 0.1);

    // Ops come in invocation order: the first INITIAL_OPS end at that op's start.
    const zoomEnd = n > INITIAL_OPS ? (t.startMs[INITIAL_OPS - 1] ?? w.endMs) / 1000 : maxS;
    const dataZoom = timeZoom('weakFilter', minS, n > INITIAL_OPS ? Math.min(zoomEnd, maxS) : maxS);
    const shownEndS = n > INITIAL_OPS ? Math.min(zoomEnd, maxS) : maxS;
    const faults = faultLayer(data, { edges: true, pxPerS: pxPerSecond('timeline', 64 + (manyLanes ? 40 : 24), shownEndS - minS) });
    if (manyLanes) {
      dataZoom.push(
        { type: 'slider', yAxisIndex: 0, filterMode: 'weakFilter', width: 16, right: 8, startValue: 0, endValue: VISIBLE_LANES - 1, showDetail: false },
        { type: 'inside', yAxisIndex: 0, filterMode: 'weakFilter', zoomOnMouseWheel: false, moveOnMouseWheel: 'shift', moveOnMouseMove: false },
      );
    }

    const opSeries: echarts.CustomSeriesOption[] = OUTCOME_NAMES.map((o, code) => ({
      type: 'custom',
      name: o,
      color: OUTCOME_FILL[o],
      renderItem: renderOp(OUTCOME_FILL[o], OUTCOME_STROKE[o]),
      dimensions: ['start', 'end', 'lane', 'op'],
      encode: { x: [0, 1], y: 2 },
      data: perOutcome[code] ?? [],
      progressive: 4000,
      progressiveThreshold: 8000,
      z: 2,
      tooltip: { formatter: (p) => opTooltip(data, p) },
    }));

    chart.setOption({
      ...baseOption(),
      legend: topLegend([
        ...OUTCOME_NAMES.map((o) => ({ name: o, icon: 'rect', itemStyle: { color: OUTCOME_FILL[o] } })),
        ...faults.legend,
      ]),
      tooltip: { ...baseOption().tooltip, trigger: 'item' },
      grid: { left: 64, right: manyLanes ? 40 : 24, top: BANDED_GRID_TOP, bottom: 70 },
      xAxis: timeAxis(minS, maxS),
      yAxis: {
        type: 'category',
        data: [...t.lanes],
        inverse: true,
        name: 'process',
        nameLocation: 'middle',
        nameGap: 44,
        axisTick: { show: false },
        splitLine: { show: true, lineStyle: { color: '#f0f0f0' } },
      },
      dataZoom,
      series: [...faults.series, ...opSeries],
    });
  }

  /** A renderItem drawing an op as a bar (at least 1.5 px wide) across its lane. */
  function renderOp(fill: string, stroke: string): echarts.CustomSeriesRenderItem {
    return (params, api) => {
      const y = api.value(2);
      const a = api.coord([api.value(0) as number, y as number]);
      const b = api.coord([api.value(1) as number, y as number]);
      const size = api.size?.([0, 1]);
      const band = Array.isArray(size) ? (size[1] ?? LANE_PX) : LANE_PX;
      const hgt = Math.max(2, Math.min(band * 0.72, 14));
      const x0 = a[0] ?? 0;
      const width = Math.max((b[0] ?? 0) - x0, 1.5);
      const shape = echarts.graphic.clipRectByRect(
        { x: x0, y: (a[1] ?? 0) - hgt / 2, width, height: hgt },
        params.coordSys as unknown as PxRect,
      );
      if (shape === undefined) return null;
      return {
        type: 'rect',
        shape,
        style: { fill, stroke: width >= 4 ? stroke : fill, lineWidth: width >= 4 ? 1 : 0 },
        emphasis: { style: { stroke: '#222', lineWidth: 1.5 } },
      };
    };
  }

  /** The tooltip of an op: its text, f, outcome, process, times and duration. */
  function opTooltip(data: ReportData, p: unknown): string {
    const t = data.timeline;
    const value = (p as { value?: unknown }).value;
    const i = Array.isArray(value) ? Number(value[3]) : NaN;
    if (!Number.isInteger(i)) return '';
    const outcome = OUTCOME_NAMES[t.outcome[i] ?? 2] ?? 'info';
    const start = t.startMs[i] ?? 0;
    const end = t.endMs[i] ?? start;
    return (
      `<div style="font-weight:600;margin-bottom:4px;overflow-wrap:break-word;word-break:normal">${esc(t.text[i] ?? '')}</div>` +
      `<span style="display:inline-block;width:9px;height:9px;border-radius:2px;margin-right:5px;` +
      `background:${OUTCOME_FILL[outcome]};border:1px solid ${OUTCOME_STROKE[outcome]}"></span>` +
      `${esc(t.fs[t.f[i] ?? 0] ?? '?')} · <b>${outcome}</b> · process ${esc(t.lanes[t.lane[i] ?? 0] ?? '?')}<br>` +
      `${fmtTime(start)} → ${fmtTime(end)} · ${fmtDuration(end - start)}`
    );
  }
}
