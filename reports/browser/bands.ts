/** Nemesis fault windows, shaded across every time chart (one legend entry per fault kind). */
namespace DsyncReport {
  /** The fault bands of one chart: series carrying them as markAreas, and their legend entries. */
  export interface FaultLayer {
    readonly series: echarts.LineSeriesOption[];
    readonly legend: LegendItem[];
  }

  /**
   * One empty line series per fault kind whose markArea shades each of that kind's windows over
   * the whole height of the plot; toggling the kind in the legend hides its bands. With `edges`,
   * dashed lines mark where each window starts and ends, above the data (for dense plots that
   * would hide the shading).
   */
  export function faultLayer(data: ReportData, edges = false): FaultLayer {
    const kinds = faultKinds(data);
    const series: echarts.LineSeriesOption[] = [];
    const legend: LegendItem[] = [];
    for (const kind of kinds) {
      const colour = faultColor(kind, kinds);
      const bands = data.faults.filter((b) => b.kind === kind);
      series.push({
        type: 'line',
        name: kind,
        data: [],
        color: colour.swatch,
        z: 0,
        markArea: {
          silent: false,
          itemStyle: { color: colour.band },
          label: { show: false },
          emphasis: { disabled: true },
          tooltip: { formatter: (p) => esc(String((p as { name?: unknown }).name ?? kind)) },
          data: bands.map((b) => [
            { name: bandName(b), xAxis: b.startMs / 1000 },
            { xAxis: Math.max(b.endMs, b.startMs) / 1000 },
          ]),
        },
        ...(edges
          ? {
              markLine: {
                silent: true,
                symbol: ['none', 'none'],
                z: 10,
                animation: false,
                label: { show: false },
                lineStyle: { color: colour.solid, type: 'dashed', width: 1, opacity: 0.8 },
                emphasis: { disabled: true },
                data: bands.flatMap((b) => [{ xAxis: b.startMs / 1000 }, { xAxis: b.endMs / 1000 }]),
              },
            }
          : {}),
      });
      legend.push({ name: kind, icon: 'rect', itemStyle: { color: colour.swatch } });
    }
    return { series, legend };
  }

  /** A band in words: `partition 2.0–4.0 s (2.00 s)`. */
  function bandName(b: FaultBand): string {
    return `${b.kind} ${fmtSeconds(b.startMs / 1000)}–${fmtSeconds(b.endMs / 1000)} s (${fmtDuration(b.endMs - b.startMs)})`;
  }
}
