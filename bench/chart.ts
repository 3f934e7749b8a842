// bench/results/chart.svg: GFLOP/s of simd-linear against the peers that matter, one panel per
// product, shapes along x, the peak as a dashed line. Hand-written SVG: no dependency, small diff.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Results } from './results.js';
import { latencySets } from './shapes.js';

const PANELS = [
  { pass: 'forward', title: 'forward  Y = X·W + b' },
  { pass: 'dX', title: 'dX = dY·Wᵀ' },
  { pass: 'dW', title: 'dW += Xᵀ·dY' },
];
const BAR = 14, GAP = 26, LEFT = 56, RIGHT = 16, TOP = 66, PANEL = 190, TITLE = 24, LABELS = 30, MIN_WIDTH = 900;
const COLOURS = ['#1f5fa8', '#e8812a', '#f4c28f', '#3a9a4a'];

export const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
export const text = (x: number, y: number, s: string, attrs = '') => `<text x="${x}" y="${y}"${attrs}>${escape(s)}</text>`;

/** A round gridline step giving about six lines up to `v`: 1, 2, 2.5 or 5 × a power of ten. */
export function niceStep(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v / 6));
  return [1, 2, 2.5, 5, 10].map((f) => f * p).find((x) => x >= v / 6) ?? 10 * p;
}

export function writeChart(dir: string, r: Results): string {
  const series = [`simd-linear ${r.bestBuild}`, 'tfjs', 'tfjs pre-T', 'ORT'];
  const names = [`simd-linear (${r.bestBuild} build)`, 'tfjs-wasm matMul (own transpose)', 'tfjs-wasm, pre-transposed', 'onnxruntime-web'];
  const bars = r.measurements.filter((m) => !latencySets.has(m.set) && series.includes(m.contender) && PANELS.some((p) => p.pass === m.pass));
  const shapes = [...new Set(bars.map((m) => m.shape))];
  const peak = r.peak[r.bestBuild] ?? 0;
  const top = Math.max(peak, ...bars.map((m) => m.gflops ?? 0)) * 1.05;
  const step = niceStep(top);
  const yMax = Math.ceil(top / step) * step;
  const width = Math.max(MIN_WIDTH, LEFT + shapes.length * (series.length * BAR + GAP) + RIGHT);
  const group = (width - LEFT - RIGHT) / shapes.length; // few shapes spread out over the minimum width
  const height = TOP + PANELS.length * (TITLE + PANEL + LABELS) + 16;
  const gflops = new Map(bars.map((m) => [`${m.shape}|${m.pass}|${m.contender}`, m.gflops]));

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui,Segoe UI,Helvetica,Arial,DejaVu Sans,sans-serif" font-size="11">`,
    `<style>.g{stroke:#ddd}.a{fill:#555;text-anchor:end}.s{text-anchor:middle;font-size:10px}.t{font-weight:600}.p{stroke:#c0392b;stroke-dasharray:5 3}.pl{fill:#c0392b;font-size:10px}${COLOURS.map((c, i) => `.c${i}{fill:${c}}`).join('')}</style>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    text(LEFT, 18, `GFLOP/s, single thread (p50) — node ${r.machine.node}, ${r.machine.cpu}, ${r.machine.date.slice(0, 10)}`, ' class="t" font-size="13"'),
  ];
  // Legend: a swatch per series, then the peak line; wraps to a second row (TOP leaves room for two).
  let x = LEFT, row = 30;
  const legend = (mark: (x: number, y: number) => string, label: string) => {
    const w = 38 + label.length * 6; // about 6 px a character at 11 px
    if (x + w > width - RIGHT) [x, row] = [LEFT, row + 16];
    parts.push(mark(x, row), text(x + 15, row + 10, label));
    x += w;
  };
  names.forEach((name, i) => legend((x, y) => `<rect x="${x}" y="${y}" width="11" height="11" fill="${COLOURS[i]}"/>`, name));
  legend((x, y) => `<line x1="${x}" y1="${y + 6}" x2="${x + 11}" y2="${y + 6}" class="p"/>`, `peak: 12 f32x4 multiply-add chains, ${r.bestBuild} build`);

  PANELS.forEach(({ pass, title }, p) => {
    const top = TOP + p * (TITLE + PANEL + LABELS) + TITLE;
    const y = (v: number) => top + PANEL - (v / yMax) * PANEL;
    parts.push(text(LEFT, top - 10, title, ' class="t"'));
    for (let v = 0; v <= yMax; v += step) {
      parts.push(`<line x1="${LEFT}" x2="${width - RIGHT}" y1="${y(v)}" y2="${y(v)}" class="g"/>`, text(LEFT - 6, y(v) + 4, String(v), ' class="a"'));
    }
    shapes.forEach((shape, s) => {
      const x0 = LEFT + s * group + (group - series.length * BAR) / 2;
      series.forEach((contender, i) => {
        const v = gflops.get(`${shape}|${pass}|${contender}`);
        const bx = x0 + i * BAR;
        if (v === undefined) {
          parts.push(text(bx + BAR / 2, y(0) - 3, '×', ' class="s"')); // not measured (skipped)
          return;
        }
        // A tooltip per bar: the values are in latest.json, but hovering is quicker.
        parts.push(`<rect x="${bx.toFixed(1)}" y="${y(v).toFixed(1)}" width="${BAR - 1}" height="${(y(0) - y(v)).toFixed(1)}" class="c${i}"><title>${escape(series[i])}: ${v.toFixed(1)}</title></rect>`);
      });
      // Two short lines fit under a group where M×K×N in one line would run into the next.
      const [m, k, n] = shape.split('×');
      const cx = (x0 + (series.length * BAR) / 2).toFixed(1);
      parts.push(`<text x="${cx}" y="${y(0) + 13}" class="s">batch ${m}<tspan x="${cx}" dy="11">${k}→${n}</tspan></text>`);
    });
    if (peak) {
      parts.push(`<line x1="${LEFT}" x2="${width - RIGHT}" y1="${y(peak).toFixed(1)}" y2="${y(peak).toFixed(1)}" class="p"/>`,
        text(width - RIGHT - 2, y(peak) - 3, `peak ${peak.toFixed(1)}`, ' class="pl" text-anchor="end"'));
    }
  });
  parts.push(text(LEFT, height - 6, 'Each group: batch, d_in→d_out of a Linear layer. Hover a bar for its value; all numbers in bench/results/latest.json.', ' font-size="10" fill="#555"'));
  parts.push('</svg>');

  const file = join(dir, 'chart.svg');
  writeFileSync(file, parts.join('\n') + '\n');
  return file;
}
