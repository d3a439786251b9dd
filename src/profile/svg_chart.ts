/**
 * Minimal SVG scatter charts for the profile report: labelled points, linear
 * or log axes, optional horizontal reference lines. No dependencies; the
 * output is a standalone `.svg` document.
 *
 * @module
 */

/** One plotted point. */
export interface ChartPoint {
  /** x value. */
  x: number;
  /** y value. */
  y: number;
  /** Label drawn next to the point. */
  label: string;
  /** Hollow marker (e.g. extrapolated rather than measured). */
  hollow?: boolean;
}

/** Chart description. */
export interface ScatterChart {
  /** Title. */
  title: string;
  /** x-axis label. */
  xLabel: string;
  /** y-axis label. */
  yLabel: string;
  /** Points. */
  points: ChartPoint[];
  /** Logarithmic x axis. */
  logX?: boolean;
  /** Logarithmic y axis. */
  logY?: boolean;
  /** Horizontal reference lines. */
  lines?: { y: number; label: string }[];
}

const W = 760;
const H = 460;
const M = { left: 80, right: 190, top: 40, bottom: 60 };

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function scale(values: number[], log: boolean, from: number, to: number): (v: number) => number {
  const f = (v: number) => (log ? Math.log10(Math.max(v, 1e-12)) : v);
  let lo = Math.min(...values.map(f));
  let hi = Math.max(...values.map(f));
  if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.08;
  lo -= pad;
  hi += pad;
  return (v: number) => from + ((f(v) - lo) / (hi - lo)) * (to - from);
}

function tickText(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${(v / 1e3).toPrecision(3)}k`;
  return v.toPrecision(3);
}

/** Renders `chart` as an SVG document. */
export function renderScatter(chart: ScatterChart): string {
  const xs = chart.points.map((p) => p.x);
  const ys = [...chart.points.map((p) => p.y), ...(chart.lines ?? []).map((l) => l.y)];
  const sx = scale(xs, chart.logX ?? false, M.left, W - M.right);
  const sy = scale(ys, chart.logY ?? false, H - M.bottom, M.top);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${escape(chart.title)}</text>`,
    `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${
      H - M.bottom
    }" stroke="#333"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="#333"/>`,
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 18}" text-anchor="middle">${
      escape(chart.xLabel)
    }</text>`,
    `<text x="18" y="${(M.top + H - M.bottom) / 2}" text-anchor="middle" transform="rotate(-90 18 ${
      (M.top + H - M.bottom) / 2
    })">${escape(chart.yLabel)}</text>`,
  ];
  const ticks = (values: number[]) => [Math.min(...values), Math.max(...values)];
  for (const v of ticks(xs)) {
    out.push(
      `<text x="${sx(v)}" y="${H - M.bottom + 16}" text-anchor="middle">${tickText(v)}</text>`,
    );
  }
  for (const v of ticks(ys)) {
    out.push(`<text x="${M.left - 6}" y="${sy(v) + 4}" text-anchor="end">${tickText(v)}</text>`);
  }
  for (const line of chart.lines ?? []) {
    const y = sy(line.y);
    out.push(
      `<line x1="${M.left}" y1="${y}" x2="${
        W - M.right
      }" y2="${y}" stroke="#c33" stroke-dasharray="5,4"/>`,
      `<text x="${W - M.right + 4}" y="${y + 4}" fill="#c33">${escape(line.label)}</text>`,
    );
  }
  // Labels of nearby points are moved down until they no longer overlap.
  const placed: { x: number; y: number }[] = [];
  for (const p of chart.points) {
    const x = sx(p.x);
    const y = sy(p.y);
    let labelY = y - 6;
    while (placed.some((q) => Math.abs(q.x - x) < 120 && Math.abs(q.y - labelY) < 12)) labelY += 12;
    placed.push({ x, y: labelY });
    out.push(
      `<circle cx="${x}" cy="${y}" r="4" fill="${
        p.hollow ? "white" : "#2563eb"
      }" stroke="#2563eb" stroke-width="1.5"/>`,
      `<text x="${x + 7}" y="${labelY}" fill="#333">${escape(p.label)}</text>`,
    );
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}
