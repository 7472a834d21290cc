/**
 * A service's throughput–latency curves: per cluster size, ok ops/s against the p99 latency of
 * each offered rate, the knee as a large symbol, the p99 bound and the reference figures as lines.
 */
namespace DsyncReport {
  /** Colour of the p99 bound and of the reference lines. */
  const BOUND_COLOUR = '#cf222e';
  const REFERENCE_COLOUR = '#6e7781';

  /** Draws the curves of `service` into `#curve-<service>`. */
  export function drawCurve(data: CompareResults, service: CompareService): void {
    const id = `curve-${service}`;
    const rows = data.curves.filter((c) => c.service === service && c.latency.p99Ms !== null && c.latency.p99Ms > 0);
    if (rows.length === 0) {
      emptyChart(id, `No ${service} rate answered an op ok: no curve to draw.`);
      return;
    }
    const sizes = pageSizes(data);
    const present = sizes.filter((n) => rows.some((r) => r.nodes === n));
    const bound = data.options.p99BoundMs;
    const refs = data.reference.filter((r) => r.service === undefined || r.service === service);
    const pointRows: CurveRow[][] = [];
    const series: echarts.LineSeriesOption[] = present.map((n) => {
      const mine = rows.filter((r) => r.nodes === n).sort((a, b) => a.offeredPerSec - b.offeredPerSec);
      const knee = data.knees.find((k) => k.service === service && k.nodes === n)?.offeredPerSec ?? null;
      pointRows.push(mine);
      return {
        type: 'line',
        name: sizeName(n),
        color: sizeColour(n, sizes),
        symbol: 'circle',
        symbolSize: 7,
        lineStyle: { width: 2 },
        z: 3,
        data: mine.map((r) => ({
          value: [r.okPerSec, r.latency.p99Ms as number],
          ...(r.offeredPerSec === knee ? { symbol: 'diamond', symbolSize: 18, itemStyle: { borderColor: '#111', borderWidth: 1.5 } } : {}),
        })),
      };
    });
    const y = logRange([...rows.map((r) => r.latency.p99Ms as number), bound, ...refs.filter((r) => r.kind === 'p99').map((r) => r.value)]);
    const maxX = niceCeil(Math.max(...rows.map((r) => r.okPerSec), ...refs.filter((r) => r.kind === 'throughput').map((r) => r.value)) * 1.04);
    // A p99 figure equal to the bound shares its line and label; a throughput line closer than 3 %
    // of the axis to the last labelled one keeps its label for the tooltip (labels would overlap).
    const sameAsBound = refs.filter((r) => r.kind === 'p99' && r.value === bound);
    let lastLabelled = -Infinity;
    const lines: echarts.MarkLineComponentOption['data'] = [
      { name: [`p99 bound ${fmtDuration(bound)}`, ...sameAsBound.map((r) => r.label)].join(' = '), yAxis: bound, lineStyle: { color: BOUND_COLOUR, type: 'dashed', width: 1.5 }, label: { color: BOUND_COLOUR } },
      ...refs
        .filter((r) => !sameAsBound.includes(r))
        .sort((a, b) => a.value - b.value)
        .map((r) => {
          const crowded = r.kind === 'throughput' && r.value - lastLabelled < 0.03 * maxX;
          if (r.kind === 'throughput' && !crowded) lastLabelled = r.value;
          return {
            name: r.label,
            ...(r.kind === 'throughput' ? { xAxis: r.value } : { yAxis: r.value }),
            lineStyle: { color: REFERENCE_COLOUR, type: 'dotted' as const, width: 1.5 },
            label: { color: REFERENCE_COLOUR, show: !crowded },
          };
        }),
    ];
    series.push({
      type: 'line',
      name: 'lines',
      data: [],
      z: 2,
      markLine: { symbol: 'none', silent: false, data: lines, label: { formatter: '{b}', fontSize: 11, position: 'insideEndTop' } },
    });
    const chart = initChart(id, 400);
    chart.setOption({
      ...baseOption(),
      legend: topLegend(present.map((n) => ({ name: sizeName(n) }))),
      tooltip: { ...baseOption().tooltip, trigger: 'item', formatter: (p: unknown) => curveTooltip(p, pointRows, data, service) },
      grid: { left: 72, right: 40, top: 40, bottom: 50 },
      xAxis: {
        type: 'value',
        name: 'ok ops / s',
        nameLocation: 'middle',
        nameGap: 28,
        min: 0,
        max: maxX,
        axisLabel: { hideOverlap: true, formatter: (v: number) => fmtAxisNumber(v) },
        splitLine: { lineStyle: { color: '#eee' } },
      },
      yAxis: { ...latencyAxis(), name: 'p99 latency (ms)', min: y.min, max: y.max },
      series,
    });
  }

  /** A point's tooltip (its size, offered rate, ok/s, p50 and p99, whether it is the knee), or a line's label. */
  function curveTooltip(p: unknown, pointRows: readonly (readonly CurveRow[])[], data: CompareResults, service: CompareService): string {
    const item = p as { componentType?: string; seriesIndex?: number; dataIndex?: number; name?: string; color?: string };
    if (item.componentType === 'markLine') return esc(item.name ?? '');
    const row = pointRows[item.seriesIndex ?? -1]?.[item.dataIndex ?? -1];
    if (row === undefined) return '';
    const knee = data.knees.some((k) => k.service === service && k.nodes === row.nodes && k.offeredPerSec === row.offeredPerSec);
    const share = row.offeredPerSec > 0 ? ` (${((100 * row.okPerSec) / row.offeredPerSec).toFixed(1)} %)` : '';
    return [
      tooltipRow(String(item.color), `<b>${esc(sizeName(row.nodes))}</b>${knee ? ' · <b>knee</b>' : ''}`),
      `offered ${fmtInt(row.offeredPerSec)} ops/s`,
      `ok ${fmtInt(row.okPerSec)} ops/s${share}`,
      `p50 ${fmtDuration(row.latency.p50Ms)} · p99 ${fmtDuration(row.latency.p99Ms)}`,
      ...(row.firstError === undefined ? [] : [`<span style="color:#888">first error: ${esc(row.firstError)}</span>`]),
    ].join('<br>');
  }
}
