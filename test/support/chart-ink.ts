/** How much of a chart a browser test sees drawn: the inked pixels of its canvases. */
import type { Page } from 'playwright-core';

/** Pixels with any ink in the canvases under `selector` (ECharts draws on a transparent canvas). */
export async function inkedPixels(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    let inked = 0;
    for (const canvas of Array.from(document.querySelectorAll<HTMLCanvasElement>(`${sel} canvas`))) {
      const ctx = canvas.getContext('2d');
      if (ctx === null || canvas.width === 0 || canvas.height === 0) continue;
      const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 3; i < px.length; i += 4) if ((px[i] as number) > 0) inked++;
    }
    return inked;
  }, selector);
}
