// The results of a run as data: what latest.json holds, and what the table and chart read.
import { cpus } from 'node:os';
import type { Build, Peaks } from './peak.js';

export interface Measurement {
  /** The shape set that contributed the shape. */
  set: string;
  /** M×K×N (batch × d_in × d_out). */
  shape: string;
  /** forward, dX, dW (one product each); layer forward, frozen forward, layer backward (1, 1 and 2 products); training step. */
  pass: string;
  contender: string;
  /** simd-linear only: the build that ran, whose peak `pctPeak` refers to. */
  build?: Build;
  flops: number;
  p50Ms?: number;
  gflops?: number;
  /** tinybench samples behind the median. */
  samples?: number;
  /** Why there is no number. */
  skipped?: string;
  pctPeak?: number;
  /** Batch-1 shapes: weight-sized traffic, K·N·4 bytes per call, in GB/s. */
  weightGBps?: number;
}

export interface Results {
  machine: { node: string; v8: string; cpu: string; cores: number; platform: string; date: string };
  /** callLimits: seconds a call of a slow contender may take before it sits the shape out. */
  options: { set: string; quick: boolean; callLimits: Record<string, number> };
  /** GFLOP/s of 12 register-resident f32x4 multiply-add chains, per build: the best of its measurements between shapes. */
  peak: Peaks;
  /** The build `init()` chose, which the layer-level numbers ran on. */
  layerBuild: Build;
  /** The kernel build with the higher geometric mean over the run: the one compared with the peers. */
  bestBuild: Build;
  contenders: Record<string, string>;
  notes: string[];
  measurements: Measurement[];
}

export function machine(): Results['machine'] {
  return {
    node: process.versions.node,
    v8: process.versions.v8,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
  };
}

/** Up to this batch a product is bound by reading W once (bench/microkernels.md): W's GB/s are reported. */
export const WEIGHT_BOUND_BATCH = 8;

/** The contender name of the plain read loop over W's bytes timed with those shapes' forward (bench/peak.ts). */
export const READ_LOOP = 'read loop';

/** Fills in the numbers that depend on the whole run (the peak is measured last). */
export function derive(measurements: Measurement[], peak: Peaks): void {
  for (const m of measurements) {
    if (m.p50Ms === undefined || m.gflops === undefined) continue;
    const ceiling = m.build && peak[m.build];
    if (ceiling) m.pctPeak = (100 * m.gflops) / ceiling;
    const [batch, din, dout] = m.shape.split('×').map(Number);
    if (batch <= WEIGHT_BOUND_BATCH) m.weightGBps = (din * dout * 4) / (m.p50Ms * 1e6);
  }
}

/** The kernel build with the higher geometric mean of GFLOP/s over the shapes and passes both ran. */
export function bestBuild(measurements: Measurement[]): Build {
  const logs: Record<Build, number> = { fixed: 0, relaxed: 0 };
  const kernel = measurements.filter((m) => m.contender === `simd-linear ${m.build}` && m.gflops);
  const relaxed = new Map(kernel.filter((m) => m.build === 'relaxed').map((m) => [`${m.shape} ${m.pass}`, m.gflops!]));
  if (relaxed.size === 0) return 'fixed';
  for (const m of kernel.filter((m) => m.build === 'fixed')) {
    const r = relaxed.get(`${m.shape} ${m.pass}`);
    if (r === undefined) continue;
    logs.fixed += Math.log(m.gflops!);
    logs.relaxed += Math.log(r);
  }
  return logs.relaxed >= logs.fixed ? 'relaxed' : 'fixed';
}
