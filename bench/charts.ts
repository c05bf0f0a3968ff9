/** Minimal SVG line charts, written by hand so the bench downloads nothing. */

export interface Series {
  name: string;
  points: readonly { x: number; y: number }[];
  color: string;
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  yLog?: boolean;
  series: readonly Series[];
  /** Vertical reference lines. */
  markers?: readonly { x: number; label: string; color?: string }[];
  /** Tick positions on the x axis (default: powers of ten on a log axis, round numbers otherwise). */
  xTicks?: readonly number[];
  formatX?: (x: number) => string;
  formatY?: (y: number) => string;
  width?: number;
  height?: number;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const niceLinearTicks = (min: number, max: number, count = 6) => {
  const span = max - min || 1;
  const step = 10 ** Math.floor(Math.log10(span / count));
  const multiple = [1, 2, 5, 10].find((m) => span / (m * step) <= count) ?? 10;
  const s = multiple * step;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / s) * s; t <= max + s * 1e-9; t += s) ticks.push(Number(t.toPrecision(12)));
  return ticks;
};

const logTicks = (min: number, max: number) => {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    const t = 10 ** e;
    if (t >= min * 0.999 && t <= max * 1.001) ticks.push(t);
  }
  return ticks;
};

export const lineChart = (options: ChartOptions): string => {
  const width = options.width ?? 900;
  const height = options.height ?? 440;
  const margin = { left: 80, right: 230, top: 40, bottom: 56 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const xs = options.series
    .flatMap((s) => s.points.map((p) => p.x))
    .concat(
      (options.markers ?? []).map((m) => m.x),
      options.xTicks ?? [],
    );
  const ys = options.series.flatMap((s) => s.points.map((p) => p.y));
  const fx = options.xLog ? Math.log10 : (v: number) => v;
  const fy = options.yLog ? Math.log10 : (v: number) => v;
  let xMin = Math.min(...xs);
  let xMax = Math.max(...xs);
  let yMin = Math.min(...ys);
  let yMax = Math.max(...ys);
  if (!options.yLog) yMin = Math.min(0, yMin);
  if (options.yLog) {
    yMin = 10 ** Math.floor(Math.log10(yMin));
    yMax = 10 ** Math.ceil(Math.log10(yMax));
  }
  if (options.xLog && !options.xTicks) {
    xMin = 10 ** Math.floor(Math.log10(xMin));
    xMax = 10 ** Math.ceil(Math.log10(xMax));
  }
  if (xMax === xMin) xMax = xMin + 1;
  if (yMax === yMin) yMax = yMin + 1;
  const px = (x: number) => margin.left + ((fx(x) - fx(xMin)) / (fx(xMax) - fx(xMin))) * plotW;
  const py = (y: number) => margin.top + plotH - ((fy(y) - fy(yMin)) / (fy(yMax) - fy(yMin))) * plotH;
  const formatX = options.formatX ?? ((x: number) => String(x));
  const formatY = options.formatY ?? ((y: number) => String(y));
  const xTicks = options.xTicks ?? (options.xLog ? logTicks(xMin, xMax) : niceLinearTicks(xMin, xMax));
  const yTicks = options.yLog ? logTicks(yMin, yMax) : niceLinearTicks(yMin, yMax);

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${margin.left}" y="24" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
  );
  for (const t of yTicks) {
    const y = py(t).toFixed(1);
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${margin.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatY(t))}</text>`,
    );
  }
  for (const t of xTicks) {
    const x = px(t).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#e5e5e5"/>`,
      `<text x="${x}" y="${margin.top + plotH + 16}" text-anchor="middle">${escapeXml(formatX(t))}</text>`,
    );
  }
  parts.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`,
    `<text x="${margin.left + plotW / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(18 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );
  for (const [i, m] of (options.markers ?? []).entries()) {
    const x = px(m.x).toFixed(1);
    const color = m.color ?? '#999';
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="${color}" stroke-dasharray="2 3"/>`,
      `<text x="${Number(x) + 3}" y="${margin.top + 12 + 14 * i}" fill="${color}" font-size="11">${escapeXml(m.label)}</text>`,
    );
  }
  options.series.forEach((s, i) => {
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ');
    parts.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    if (s.points.length <= 12) {
      for (const p of s.points) {
        parts.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${s.color}"/>`);
      }
    }
    const ly = margin.top + 10 + i * 20;
    const lx = margin.left + plotW + 14;
    parts.push(
      `<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${lx + 28}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
};

/** Empirical CDF points of `samples` (at most `maxPoints` of them). */
export const cdfPoints = (samples: readonly number[], maxPoints = 200) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const points: { x: number; y: number }[] = [];
  const step = Math.max(1, Math.floor(sorted.length / maxPoints));
  for (let i = 0; i < sorted.length; i += step) points.push({ x: sorted[i] as number, y: (i + 1) / sorted.length });
  points.push({ x: sorted.at(-1) as number, y: 1 });
  return points;
};
