// The run as text (tables for the terminal) and as latest.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { READ_LOOP, WEIGHT_BOUND_BATCH, type Measurement, type Results } from './results.js';
import { latencySets } from './shapes.js';

const KERNEL_PASSES = ['forward', 'dX', 'dW'];

const gf = (v: number | undefined) => (v === undefined ? '—' : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const ratio = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : v >= 10 ? `${v.toFixed(0)}×` : `${v.toFixed(2)}×`);
const pct = (v: number | undefined) => (v === undefined ? '—' : `${v.toFixed(0)}%`);

/** Columns sized to their content: the first `left` left-aligned (names), the rest right-aligned (numbers). */
function table(header: string[], rows: string[][], left = 2): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Lookup of one run's measurements. */
class Index {
  private readonly byKey = new Map<string, Measurement>();
  constructor(measurements: Measurement[]) {
    for (const m of measurements) this.byKey.set(`${m.shape}|${m.pass}|${m.contender}`, m);
  }
  get(shape: string, pass: string, contender: string): Measurement | undefined {
    return this.byKey.get(`${shape}|${pass}|${contender}`);
  }
  /** The summed latency of several passes (layer backward = dX + dW), if all were measured. */
  ms(shape: string, passes: string[], contender: string): number | undefined {
    const times = passes.map((p) => this.get(shape, p, contender)?.p50Ms);
    return times.every((t) => t !== undefined) ? times.reduce((a, b) => a! + b!, 0) : undefined;
  }
}

const cell = (m: Measurement | undefined) => (m?.skipped ? 'skip' : gf(m?.gflops));

export function formatReport(r: Results): string {
  const index = new Index(r.measurements);
  const kernels = Object.keys(r.contenders).filter((c) => c.startsWith('simd-linear ') && c !== 'simd-linear layer');
  const peers = Object.keys(r.contenders).filter((c) => !c.startsWith('simd-linear '));
  const best = `simd-linear ${r.bestBuild}`;
  const shapes = [...new Set(r.measurements.filter((m) => !latencySets.has(m.set) && KERNEL_PASSES.includes(m.pass)).map((m) => m.shape))];
  const weightBound = (shape: string) => Number(shape.split('×')[0]) <= WEIGHT_BOUND_BATCH;
  const hasBatch1 = shapes.some(weightBound);
  const out: string[] = [];

  out.push(`simd-linear bench — node ${r.machine.node} (V8 ${r.machine.v8}), ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.date}` +
    `${r.options.quick ? ' — QUICK run: numbers are rough' : ''}`);
  out.push(`Peak, 12 register-resident f32x4 multiply-add chains: ${Object.entries(r.peak).map(([b, v]) => `${b === 'relaxed' ? 'relaxed madd' : 'mul + add'} ${gf(v)} GFLOP/s`).join(', ')}`);
  out.push('All single-threaded; GFLOP/s = 2·M·K·N / p50 latency. %pk = share of the peak of the same build.');

  if (shapes.length) {
    out.push('', 'Kernel level: GFLOP/s per product (forward Y = X·W + b, dX = dY·Wᵀ, dW += Xᵀ·dY), M×K×N = batch × d_in × d_out');
    out.push(table(
      ['shape', 'pass', ...kernels.flatMap((k) => [k.replace('simd-linear ', ''), '%pk']), ...peers, ...(hasBatch1 ? ['W GB/s'] : [])],
      shapes.flatMap((shape) => KERNEL_PASSES.map((pass) => [
        shape, pass,
        ...kernels.flatMap((k) => { const m = index.get(shape, pass, k); return [cell(m), pct(m?.pctPeak)]; }),
        ...peers.map((p) => cell(index.get(shape, pass, p))),
        ...(hasBatch1 ? [weightBound(shape) ? weightRate(index, shape, pass, best) : ''] : []),
      ])),
    ));
    if (hasBatch1) {
      out.push(`W GB/s: weight-sized traffic of ${best} up to batch ${WEIGHT_BOUND_BATCH}, K·N·4 bytes per call; in parentheses a ` +
        'plain read loop over as many bytes, timed in the rounds of the forward.');
    }

    out.push('', `Speed-up of ${best} (the faster build over the run) over each peer, same shape and product`);
    // The packed-W forward (Linear.freeze()) gets a row of its own, against the same peers and the in-place forward.
    const packed = 'simd-linear packed';
    const speedups = (shape: string, pass: string, contender: string, label: string) => {
      const ours = index.get(shape, pass, contender)?.p50Ms;
      const vs = (p: string) => ratio(ours && (index.get(shape, pass, p)?.p50Ms ?? NaN) / ours);
      return [shape, label, ...peers.map(vs), contender === best ? '' : vs(best)];
    };
    out.push(table(['shape', 'pass', ...peers.map((p) => `vs ${p}`), 'vs in place'], shapes.flatMap((shape) => [
      ...KERNEL_PASSES.map((pass) => speedups(shape, pass, best, pass)),
      ...(index.get(shape, 'forward', packed) ? [speedups(shape, 'forward', packed, 'forward, packed W')] : []),
    ])));
    out.push(`forward, packed W: ${packed}, W packed once beforehand (Linear.freeze()); vs in place: over ${best}'s forward.`);

    out.push('', `Layer level (public API, ${r.layerBuild} build): Linear.forward, FrozenLinear.forward (Linear.freeze()), Linear.backward (dX + dW + db = 2 products), copies in and out included; matmul dX: matmul(dY, W, { transposeB }) with W from allocate(), read in place`);
    out.push('vs kernel: bare-gemm time of the same products ÷ layer time; vs peer: the peer\'s time for the same products ÷ layer time.');
    const layerPasses = [
      ['layer forward', ['forward'], `simd-linear ${r.layerBuild}`],
      ['frozen forward', ['forward'], packed],
      ['layer backward', ['dX', 'dW'], `simd-linear ${r.layerBuild}`],
      ['matmul dX', ['dX'], `simd-linear ${r.layerBuild}`],
    ] as const;
    const layerRows = shapes.flatMap((shape) => layerPasses.filter(([pass]) => index.get(shape, pass, 'simd-linear layer')).map(([pass, parts, kernel]) => {
      const m = index.get(shape, pass, 'simd-linear layer');
      const speedup = (contender: string) => ratio(m?.p50Ms && (index.ms(shape, [...parts], contender) ?? NaN) / m.p50Ms);
      return [shape, pass.replace('layer ', '').replace('matmul dX', 'matmul dX, W resident'), cell(m), pct(m?.pctPeak), speedup(kernel), ...peers.map(speedup)];
    }));
    out.push(table(['shape', 'pass', 'GFLOP/s', '%pk', 'vs kernel', ...peers.map((p) => `vs ${p}`)], layerRows));
  }

  const steps = r.measurements.filter((m) => m.pass === 'training step');
  if (steps.length) {
    const [ours, tfjs] = steps;
    const [batch, sizes] = ours.shape.split('×');
    out.push('', `Training step, ${sizes} MLP at batch ${batch}: forward through both layers, backward through both (every dX, dW, db)`);
    out.push(table(['contender', 'ms (p50)', 'GFLOP/s', '%pk'], steps.map((m) => [m.contender, m.p50Ms?.toFixed(3) ?? 'skip', gf(m.gflops), pct(m.pctPeak)]), 1));
    out.push(`simd-linear vs tfjs: ${ratio(ours.p50Ms && tfjs.p50Ms && tfjs.p50Ms / ours.p50Ms)}`);
  }

  const latency = r.measurements.filter((m) => latencySets.has(m.set));
  if (latency.length) {
    out.push('', `Per-call overhead: forward at ${latency[0].shape} (µs per call, p50)`);
    out.push(table(['contender', 'pass', 'µs', 'samples'], latency.map((m) => [m.contender, m.pass, m.p50Ms === undefined ? 'skip' : (m.p50Ms * 1e3).toFixed(2), String(m.samples ?? '')])));
  }

  const overPeak = r.measurements.some((m) => (m.pctPeak ?? 0) > 100)
    ? ['  %pk over 100%: the peak kernel chains each multiply into the next add (so no compiler can share or hoist it),',
      '  which loses more to a busy neighbour than a GEMM, whose products are off the chain; read %pk as approximate.']
    : [];
  out.push('', 'Notes:', ...r.notes.map((n) => `  ${n}`), ...skipNotes(r), ...overPeak);
  return out.join('\n');
}

/** One line per contender that sat shapes out, e.g. "JS skipped on 128×768×3072, 64×512×2048 (dX, dW)". */
function skipNotes(r: Results): string[] {
  const byContender = new Map<string, Map<string, string[]>>();
  for (const m of r.measurements.filter((m) => m.skipped)) {
    const shapes = byContender.get(m.contender) ?? new Map<string, string[]>();
    byContender.set(m.contender, shapes.set(m.shape, [...(shapes.get(m.shape) ?? []), m.pass]));
  }
  return [...byContender].map(([contender, shapes]) => {
    const list = [...shapes].map(([shape, passes]) => (passes.length === KERNEL_PASSES.length ? shape : `${shape} (${passes.join(', ')})`));
    const limit = r.options.callLimits[contender];
    return `  ${contender} skipped${limit ? ` (a call over ${limit} s)` : ''} on ${list.join(', ')}; the times are in latest.json`;
  });
}

export function writeJson(dir: string, r: Results): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'latest.json');
  // Rounded (the noise is in the second digit anyway) and one measurement a line: small and diffable.
  const round = (_key: string, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(4)) : v);
  const { measurements, ...rest } = r;
  const lines = measurements.map((m) => `  ${JSON.stringify(m, round)}`).join(',\n');
  writeFileSync(file, `${JSON.stringify(rest, round, 1).slice(0, -2)},\n "measurements": [\n${lines}\n ]\n}\n`);
  return file;
}

/** W's GB/s for `contender`, and the read loop's over the same bytes where it ran. */
function weightRate(index: Index, shape: string, pass: string, contender: string): string {
  const loop = index.get(shape, 'forward', READ_LOOP)?.weightGBps;
  return `${gf(index.get(shape, pass, contender)?.weightGBps)}${loop ? ` (${gf(loop)})` : ''}`;
}
