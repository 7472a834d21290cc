/**
 * A service's fault runs: per cluster size, bars of availability during the fault and of the time
 * to the first ok after it and to steady throughput after the heal; and a small timeline per size
 * of ok and failed ops per bucket with the fault window shaded.
 */
namespace DsyncReport {
  const AVAILABILITY_COLOUR = '#2da44e';
  const FIRST_OK_COLOUR = '#bf8700';
  const STEADY_COLOUR = '#8250df';

  /** The fault rows of `service`, by size. */
  function faultRows(data: CompareResults, service: CompareService): FaultRow[] {
    return data.faults.filter((f) => f.service === service).sort((a, b) => a.nodes - b.nodes);
  }

  /** A bar with its value as label. */
  type LabelledBar = { value: number; label: { show: true; formatter: string; color?: string } };

  /** A bar's value: a zero-high bar labelled `missing` when the figure is null (so it still shows). */
  function barItem(value: number | null, missing: string, text: (v: number) => string): LabelledBar {
    return value === null
      ? { value: 0, label: { show: true, formatter: missing, color: '#82071e' } }
      : { value, label: { show: true, formatter: text(value) } };
  }

  /** Draws availability (left axis, %) and recovery times (right axis, ms) per size into `#fault-bars-<service>`. */
  export function drawFaultBars(data: CompareResults, service: CompareService): void {
    const id = `fault-bars-${service}`;
    const rows = faultRows(data, service);
    if (rows.length === 0) {
      emptyChart(id, `No fault runs of ${service}.`);
      return;
    }
    const pct = (v: number): string => `${v.toFixed(1)} %`;
    const ms = (v: number): string => fmtDuration(v);
    const chart = initChart(id, 340);
    chart.setOption({
      ...baseOption(),
      legend: topLegend([
        { name: 'availability', icon: 'rect' },
        { name: 'first ok after fault', icon: 'rect' },
        { name: 'steady after heal', icon: 'rect' },
      ]),
      tooltip: {
        ...baseOption().tooltip,
        trigger: 'axis',
        axisPointer: { type: 'shadow' },
        formatter: (p: unknown) => {
          const first = Array.isArray(p) ? (p[0] as { dataIndex?: number }) : undefined;
          const r = rows[first?.dataIndex ?? -1];
          if (r === undefined) return '';
          return [
            `<b>${esc(sizeName(r.nodes))}</b> · ${esc(r.fault)}${r.target === null ? '' : ` of ${esc(r.target)}`} at ${fmtInt(r.offeredPerSec)} ops/s`,
            tooltipRow(AVAILABILITY_COLOUR, `availability ${r.availability === null ? '—' : pct(r.availability * 100)}`),
            tooltipRow(FIRST_OK_COLOUR, `first ok after the fault ${r.firstOkAfterFaultMs === null ? 'never' : ms(r.firstOkAfterFaultMs)}`),
            tooltipRow(STEADY_COLOUR, `steady after the heal ${r.steadyAfterHealMs === null ? 'never' : ms(r.steadyAfterHealMs)}`),
          ].join('<br>');
        },
      },
      grid: { left: 56, right: 64, top: 40, bottom: 36 },
      xAxis: { type: 'category', data: rows.map((r) => sizeName(r.nodes)) },
      yAxis: [
        { type: 'value', name: 'availability (%)', nameLocation: 'middle', nameGap: 38, min: 0, max: 100, splitLine: { lineStyle: { color: '#eee' } } },
        { type: 'value', name: 'ms', nameLocation: 'middle', nameGap: 48, min: 0, axisLabel: { formatter: (v: number) => fmtAxisNumber(v) }, splitLine: { show: false } },
      ],
      series: [
        { type: 'bar', name: 'availability', color: AVAILABILITY_COLOUR, yAxisIndex: 0, barMaxWidth: 36, label: { position: 'top', fontSize: 11 }, data: rows.map((r) => barItem(r.availability === null ? null : r.availability * 100, '—', pct)) },
        { type: 'bar', name: 'first ok after fault', color: FIRST_OK_COLOUR, yAxisIndex: 1, barMaxWidth: 36, label: { position: 'top', fontSize: 11 }, data: rows.map((r) => barItem(r.firstOkAfterFaultMs, 'never', ms)) },
        { type: 'bar', name: 'steady after heal', color: STEADY_COLOUR, yAxisIndex: 1, barMaxWidth: 36, label: { position: 'top', fontSize: 11 }, data: rows.map((r) => barItem(r.steadyAfterHealMs, 'never', ms)) },
      ],
    });
  }

  /** Height of one size's timeline, and the gap between two, px. */
  const LANE_PX = 78;
  const LANE_GAP_PX = 26;

  /** Draws ok and failed ops per bucket, one stacked-bar lane per size, the fault window shaded, into `#fault-timeline-<service>`. */
  export function drawFaultTimeline(data: CompareResults, service: CompareService): void {
    const id = `fault-timeline-${service}`;
    const rows = faultRows(data, service).filter((r) => r.timeline.length > 0);
    if (rows.length === 0) {
      emptyChart(id, faultRows(data, service).length === 0 ? `No fault runs of ${service}.` : 'The fault runs recorded no timeline.');
      return;
    }
    const top = 40;
    const maxS = Math.max(...rows.map((r) => Math.max(r.durationS, ...r.timeline.map((b) => b.tS + bucketS(r)))));
    const grid = rows.map((_, i) => ({ left: 72, right: 16, top: top + i * (LANE_PX + LANE_GAP_PX), height: LANE_PX }));
    const last = rows.length - 1;
    const xAxis = rows.map((_, i) => ({ ...timeAxis(0, Math.ceil(maxS)), gridIndex: i, name: i === last ? 'time (s)' : '', axisLabel: { show: i === last } }));
    const yAxis = rows.map((r, i) => ({
      type: 'value' as const,
      gridIndex: i,
      name: sizeName(r.nodes),
      nameLocation: 'middle' as const,
      nameGap: 48,
      splitNumber: 2,
      minInterval: 1,
      axisLabel: { formatter: (v: number) => fmtAxisNumber(v) },
      splitLine: { lineStyle: { color: '#eee' } },
    }));
    const series: echarts.BarSeriesOption[] = rows.flatMap((r, i) => {
      const w = bucketS(r);
      const band = faultColor(r.fault === 'partition' ? 'partition' : 'kill', []).band;
      const bars = (outcome: 'ok' | 'fail', pick: (b: { ok: number; failed: number }) => number): echarts.BarSeriesOption => ({
        type: 'bar',
        name: outcome === 'ok' ? 'ok' : 'failed',
        stack: `lane${i}`,
        xAxisIndex: i,
        yAxisIndex: i,
        barWidth: '90%',
        itemStyle: { color: OUTCOME_FILL[outcome], borderColor: OUTCOME_STROKE[outcome], borderWidth: 0.5 },
        data: r.timeline.map((b) => [b.tS + w / 2, pick(b)]),
        ...(outcome === 'ok'
          ? { markArea: { silent: true, itemStyle: { color: band }, data: [[{ xAxis: r.faultAtS }, { xAxis: r.healAtS }]] } }
          : {}),
      });
      return [bars('ok', (b) => b.ok), bars('fail', (b) => b.failed)];
    });
    const chart = initChart(id, top + rows.length * (LANE_PX + LANE_GAP_PX) + 20);
    chart.setOption({
      ...baseOption(),
      legend: topLegend([
        { name: 'ok', icon: 'rect', itemStyle: { color: OUTCOME_FILL.ok } },
        { name: 'failed', icon: 'rect', itemStyle: { color: OUTCOME_FILL.fail } },
      ]),
      tooltip: {
        ...baseOption().tooltip,
        trigger: 'axis',
        axisPointer: { type: 'shadow' },
        formatter: (p: unknown) => {
          const items = Array.isArray(p) ? (p as { seriesName?: string; seriesIndex?: number; value?: unknown; color?: string }[]) : [];
          const first = items[0];
          const r = rows[Math.floor((first?.seriesIndex ?? -2) / 2)];
          if (first === undefined || r === undefined || !Array.isArray(first.value)) return '';
          const t = Number(first.value[0]) - bucketS(r) / 2;
          const inFault = t < r.healAtS && t + bucketS(r) > r.faultAtS;
          return [
            `<b>${esc(sizeName(r.nodes))}</b> · ${fmtSeconds(t)}–${fmtSeconds(t + bucketS(r))} s${inFault ? ` · <span style="color:#82071e">in the ${esc(r.fault)}</span>` : ''}`,
            ...items.map((i) => tooltipRow(String(i.color), `${esc(i.seriesName ?? '')}: ${fmtInt(Number((i.value as unknown[])[1]))}`)),
          ].join('<br>');
        },
      },
      grid,
      xAxis,
      yAxis,
      series,
    });
  }

  /** The bucket width of a fault run's timeline, s (the step between its first two buckets; 1 when it has one). */
  function bucketS(r: FaultRow): number {
    const [a, b] = r.timeline;
    return a !== undefined && b !== undefined && b.tS > a.tS ? b.tS - a.tS : 1;
  }
}
