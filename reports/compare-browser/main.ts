/** The comparison page's entry: reads the embedded results, draws every service's charts, then marks the page ready. */
namespace DsyncReport {
  /** The services the page has a section for (`section[data-service]`, as compare-html.ts chose them). */
  function pageServices(): CompareService[] {
    return Array.from(document.querySelectorAll<HTMLElement>('section[data-service]')).map((s) => s.dataset['service'] as CompareService);
  }

  /** Draws the page; sets `body[data-ready]` to `true` when done (`error` when a part failed). */
  export function startCompare(): void {
    startPage(readCompareData, (data) =>
      pageServices().flatMap((s): PagePart[] => [
        [`the ${s} curves`, () => drawCurve(data, s)],
        [`the ${s} percentiles`, () => drawCommonRate(data, s)],
        [`the ${s} fault bars`, () => drawFaultBars(data, s)],
        [`the ${s} fault timeline`, () => drawFaultTimeline(data, s)],
      ]),
    );
  }
}

DsyncReport.startCompare();
