// bench/results/low-precision.svg: GFLOP/s of the frozen forward by weights format on both
// builds, and onnxruntime-web's f32, int8 and int4 forms of the same layer, one group per
// shape. Hand-written SVG, in chart.ts's style.
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { escape, niceStep, text } from './chart.js';

export interface LowPrecisionEntry {
  shape: [number, number, number];
  build: string;
  f32: { ms: number };
  bf16: { ms: number };
  int8: { ms: number };
  peers: Record<string, number>;
}

const BAR = 12, GAP = 30, LEFT = 56, RIGHT = 16, TOP = 66, PANEL = 260, LABELS = 34;
const COLOURS = ['#9ab8dc', '#1f5fa8', '#c6e0b4', '#3a9a4a', '#f4c28f', '#e8812a', '#777', '#bbb'];

export function writeLowPrecisionChart(file: string, results: LowPrecisionEntry[], title: string): void {
  const shapes = [...new Set(results.map((r) => r.shape.join('×')))];
  const builds = [...new Set(results.map((r) => r.build))];
  const peers = Object.keys(results[0]?.peers ?? {});
  const series = [
    ...(['int8', 'bf16', 'f32'] as const).flatMap((format) => builds.map((build) => ({ label: `${format}, ${build}`, format, build }))),
    ...peers.map((peer) => ({ label: peer, peer })),
  ];
  const flops = (shape: string) => 2 * shape.split('×').map(Number).reduce((a, b) => a * b, 1);
  const value = (shape: string, s: (typeof series)[number]): number | undefined => {
    const entry = results.find((r) => r.shape.join('×') === shape && ('build' in s ? r.build === s.build : true));
    const ms = entry && ('format' in s ? entry[s.format!].ms : entry.peers[s.peer!]);
    return ms === undefined ? undefined : flops(shape) / (ms * 1e6);
  };
  const all = shapes.flatMap((shape) => series.map((s) => value(shape, s) ?? 0));
  const step = niceStep(Math.max(...all) * 1.05);
  const yMax = Math.ceil((Math.max(...all) * 1.05) / step) * step;
  const width = LEFT + shapes.length * (series.length * BAR + GAP) + RIGHT;
  const height = TOP + PANEL + LABELS + 16;
  const y = (v: number) => TOP + PANEL - (v / yMax) * PANEL;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui,Segoe UI,Helvetica,Arial,DejaVu Sans,sans-serif" font-size="11">`,
    `<style>.g{stroke:#ddd}.a{fill:#555;text-anchor:end}.s{text-anchor:middle;font-size:10px}.t{font-weight:600}${COLOURS.map((c, i) => `.c${i}{fill:${c}}`).join('')}</style>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    text(LEFT, 18, title, ' class="t" font-size="13"'),
  ];
  series.forEach((s, i) => {
    const x = LEFT + (i % 4) * 150, row = 30 + Math.floor(i / 4) * 16;
    parts.push(`<rect x="${x}" y="${row}" width="11" height="11" class="c${i}"/>`, text(x + 15, row + 10, s.label));
  });
  for (let v = 0; v <= yMax; v += step) {
    parts.push(`<line x1="${LEFT}" x2="${width - RIGHT}" y1="${y(v)}" y2="${y(v)}" class="g"/>`, text(LEFT - 6, y(v) + 4, String(v), ' class="a"'));
  }
  shapes.forEach((shape, g) => {
    const x0 = LEFT + g * (series.length * BAR + GAP) + GAP / 2;
    series.forEach((s, i) => {
      const v = value(shape, s);
      if (v === undefined) return;
      parts.push(`<rect x="${x0 + i * BAR}" y="${y(v).toFixed(1)}" width="${BAR - 1}" height="${(y(0) - y(v)).toFixed(1)}" class="c${i}"><title>${escape(s.label)}: ${v.toFixed(1)} GFLOP/s</title></rect>`);
    });
    const [m, k, n] = shape.split('×');
    const cx = (x0 + (series.length * BAR) / 2).toFixed(1);
    parts.push(`<text x="${cx}" y="${y(0) + 13}" class="s">batch ${m}<tspan x="${cx}" dy="11">${k}→${n}</tspan></text>`);
  });
  parts.push(text(LEFT, height - 6, `GFLOP/s = 2·M·K·N / p50 latency, one thread. Values in ${basename(file, '.svg')}.json beside this chart.`, ' font-size="10" fill="#555"'), '</svg>');
  writeFileSync(file, parts.join('\n') + '\n');
}
