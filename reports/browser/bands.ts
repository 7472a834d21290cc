/**
 * Nemesis fault windows, shaded and labelled across every time chart (one legend entry per
 * window, coloured by fault kind), and the lines marking the final heal and the final phase.
 */
namespace DsyncReport {
  /** The fault bands of one chart: series carrying them as markAreas and markLines, and their legend entries. */
  export interface FaultLayer {
    readonly series: echarts.LineSeriesOption[];
    readonly legend: LegendItem[];
  }

  /** Top margin (px) of a chart's grid with fault bands: room for the legend and the band labels above the plot. */
  export const BANDED_GRID_TOP = 64;

  /** Colour of the final heal and final phase lines. */
  const FINAL_COLOUR = '#1a7f37';

  /**
   * One empty line series per fault window whose markArea shades it over the whole height of the
   * plot, labelled with its kind and what it hit (hover: its times, availability and longest
   * stretch without an ok); toggling the window in the legend hides it. A last series marks the
   * final heal and the final phase's start with vertical lines. With `edges`, dashed lines mark
   * where each window starts and ends, above the data (for dense plots that would hide the
   * shading). A label longer than its band at `pxPerS` (the initial zoom) ends in an ellipsis.
   */
  export function faultLayer(data: ReportData, o: { readonly edges?: boolean; readonly pxPerS: number }): FaultLayer {
    const edges = o.edges ?? false;
    const kinds = faultKinds(data);
    const series: echarts.LineSeriesOption[] = [];
    const legend: LegendItem[] = [];
    for (const [i, band] of data.faults.entries()) {
      const colour = faultColor(band.kind, kinds);
      const name = bandLegendName(band, i);
      series.push({
        type: 'line',
        name,
        data: [],
        color: colour.swatch,
        z: 0,
        tooltip: { formatter: () => bandTooltip(band, i, data) },
        markArea: {
          silent: false,
          itemStyle: { color: colour.band },
          label: {
            show: true,
            // Above the plot (charts with fault bands leave room), so that dense data cannot hide it.
            position: 'top',
            distance: 3,
            color: colour.solid,
            fontSize: 11,
            lineHeight: 13,
            fontWeight: 600,
            width: Math.max(14, ((band.endMs - band.startMs) / 1000) * o.pxPerS - 4),
            overflow: 'truncate',
            // Two lines (`#1 partition`, `majorities-ring`) so that narrow bands keep most of both.
            formatter: () => (band.label === '' ? `#${i + 1} ${band.kind}` : `#${i + 1} ${band.kind}\n${band.label}`),
          },
          emphasis: { disabled: true },
          tooltip: { formatter: () => bandTooltip(band, i, data) },
          data: [[{ name, xAxis: band.startMs / 1000 }, { xAxis: Math.max(band.endMs, band.startMs) / 1000 }]],
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
                data: [{ xAxis: band.startMs / 1000 }, { xAxis: band.endMs / 1000 }],
              },
            }
          : {}),
      });
      legend.push({ name, icon: 'rect', itemStyle: { color: colour.swatch } });
    }
    const finals = finalMarks(data);
    if (finals !== null) series.push(finals);
    return { series, legend };
  }

  /** Pixels per second of a chart `#id` whose plot leaves `marginPx` of its width to the axes and spans `spanS` seconds. */
  export function pxPerSecond(id: string, marginPx: number, spanS: number): number {
    return Math.max(0, byId(id).clientWidth - marginPx) / Math.max(spanS, 1e-3);
  }

  /** A band's legend entry and label: `#1 partition majorities-ring`. */
  function bandLegendName(b: FaultBand, i: number): string {
    return `#${i + 1} ${bandLabel(b)}`;
  }

  /** A band's label: its kind and what it hit. */
  export function bandLabel(b: FaultBand): string {
    return b.label === '' ? b.kind : `${b.kind} ${b.label}`;
  }

  /** A band in words, for hovering: times, duration, availability, longest stretch without an ok. */
  function bandTooltip(b: FaultBand, i: number, data: ReportData): string {
    const deadline = fmtDuration(data.run.availability.deadlineMs);
    const availability = b.availability === null ? 'no op scheduled' : `${(b.availability * 100).toFixed(1)} %`;
    return (
      `<b>#${i + 1} ${esc(bandLabel(b))}</b><br>` +
      `${fmtTime(b.startMs)} → ${fmtTime(b.endMs)} · ${fmtDuration(b.endMs - b.startMs)}<br>` +
      `availability ${availability} <span style="color:#666">(${fmtInt(b.answered)} of ${fmtInt(b.scheduled)} ops scheduled in it ok within ${esc(deadline)})</span><br>` +
      `longest stretch without an ok: ${fmtDuration(b.noOk.ms)} <span style="color:#666">(${fmtTime(b.noOk.startMs)} → ${fmtTime(b.noOk.endMs)})</span>`
    );
  }

  /** Solid vertical lines at the final heal and the final phase's start, labelled; null when neither happened. */
  function finalMarks(data: ReportData): echarts.LineSeriesOption | null {
    const lines: { name: string; xAxis: number; position: 'insideEndTop' | 'insideEndBottom' }[] = [];
    if (data.finalHealMs !== null) lines.push({ name: 'final heal', xAxis: data.finalHealMs / 1000, position: 'insideEndTop' });
    if (data.finalPhaseStartMs !== null) lines.push({ name: 'final phase', xAxis: data.finalPhaseStartMs / 1000, position: 'insideEndBottom' });
    if (lines.length === 0) return null;
    return {
      type: 'line',
      name: 'final heal and final phase',
      data: [],
      z: 11,
      markLine: {
        silent: false,
        symbol: ['none', 'none'],
        animation: false,
        lineStyle: { color: FINAL_COLOUR, type: 'solid', width: 1.5 },
        emphasis: { disabled: true },
        tooltip: { formatter: () => finalTooltip(data) },
        data: lines.map((l) => ({
          name: l.name,
          xAxis: l.xAxis,
          label: { show: true, formatter: l.name, position: l.position, color: FINAL_COLOUR, fontSize: 11, fontWeight: 600 },
        })),
      },
    };
  }

  /** The hover text of either final line (they are often a pixel apart): both, with their times. */
  function finalTooltip(data: ReportData): string {
    const lines: string[] = [];
    if (data.finalHealMs !== null) lines.push(`<b>Final heal completed</b> at ${fmtTime(data.finalHealMs)}: every fault undone`);
    if (data.finalPhaseStartMs !== null) lines.push(`<b>Final phase starts</b> at ${fmtTime(data.finalPhaseStartMs)}: client ops with no faults`);
    return lines.join('<br>');
  }
}
