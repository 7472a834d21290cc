/** Throughput over time: ok / fail / info completions per second, stacked. */
namespace DsyncReport {
  /** Draws `data.throughput` into `#throughput`, with the fault bands. */
  export function drawThroughput(data: ReportData): void {
    const points = data.throughput;
    if (points.length === 0) {
      emptyChart('throughput', 'No completed client ops.');
      return;
    }
    const chart = initChart('throughput', 300);
    // Buckets run from second 0 in order: the last one ends the axis (or the run, if later).
    const maxS = Math.max(data.durationMs / 1000, (points[points.length - 1]?.second ?? 0) + 1);
    const faults = faultLayer(data, { pxPerS: pxPerSecond('throughput', 72 + 24, Math.ceil(maxS)) });
    const bars: echarts.BarSeriesOption[] = OUTCOME_NAMES.map((o) => ({
      type: 'bar',
      name: o,
      stack: 'completions',
      barWidth: '86%',
      itemStyle: { color: OUTCOME_FILL[o], borderColor: OUTCOME_STROKE[o], borderWidth: points.length > 300 ? 0 : 0.5 },
      data: points.map((p) => ({ value: [p.second + 0.5, p[o]], itemStyle: p[o] === 0 ? { borderWidth: 0 } : {} })),
      z: 2,
    }));
    chart.setOption({
      ...baseOption(),
      legend: topLegend([
        ...OUTCOME_NAMES.map((o) => ({ name: o, icon: 'rect', itemStyle: { color: OUTCOME_FILL[o] } })),
        ...faults.legend,
      ]),
      tooltip: {
        ...baseOption().tooltip,
        trigger: 'axis',
        axisPointer: { type: 'shadow' },
        formatter: (p: unknown) => throughputTooltip(p, data.faults),
      },
      grid: { left: 72, right: 24, top: BANDED_GRID_TOP, bottom: 70 },
      xAxis: timeAxis(0, Math.ceil(maxS)),
      yAxis: {
        type: 'value',
        name: 'ops / s',
        nameLocation: 'middle',
        nameGap: 46,
        minInterval: 1,
        splitLine: { lineStyle: { color: '#eee' } },
      },
      dataZoom: timeZoom('filter'),
      series: [...faults.series, ...bars],
    });
  }

  /** The axis tooltip: the second, its ok / fail / info counts, and the fault windows overlapping it. */
  function throughputTooltip(p: unknown, faults: readonly FaultBand[]): string {
    const rows = Array.isArray(p) ? (p as { seriesName?: string; value?: unknown; color?: string }[]) : [];
    const first = rows[0]?.value;
    if (!Array.isArray(first)) return '';
    const s = Math.floor(Number(first[0]));
    const lines = rows
      .filter((r) => Array.isArray(r.value))
      .map((r) => {
        const v = r.value as unknown[];
        return `<span style="display:inline-block;width:9px;height:9px;border-radius:2px;margin-right:5px;background:${String(r.color)}"></span>${esc(r.seriesName ?? '')}: ${fmtInt(Number(v[1]))}`;
      });
    for (const [i, b] of faults.entries()) {
      if (b.startMs < (s + 1) * 1000 && b.endMs > s * 1000) lines.push(`<span style="color:#666">in #${i + 1} ${esc(bandLabel(b))}</span>`);
    }
    return `<b>${s}–${s + 1} s</b><br>${lines.join('<br>')}`;
  }
}
