import { madd } from "./simd";
import { NR } from "./blocking";

// y = (accumulate ? y : 0) + bias + x·B for one row of output, B given packed
// (packB): panels of NR columns, each k rows of NR floats, so that the whole of B is
// one sequential stream. Streamed in place (gemvRows), B is four or eight streams, one
// per row, which the hardware prefetchers follow well only while B sits in cache:
// measured at batch 1 on 1024×1024 with B in L3, part in L3, and in memory, the
// in-place four rows ran 57, 27 and 18 GB/s, this 54, 44 and 33 (bench/microkernels.md).
//
// Each panel's columns sum even and odd depths in two chains of accumulators, added at
// the end: one chain waits on the fused multiply-add's latency at every step.
//
// x(p) = x[p·incX]; y and bias: n contiguous floats; tile: NR floats of scratch.
export function gemvPacked(
  n: i32, k: i32, x: usize, incX: i32, panels: usize, y: usize, accumulate: bool, bias: usize, tile: usize,
): void {
  const xStep = <usize>incX << 2;
  const pairs = k >> 1;
  const panelBytes = <usize>k * NR << 2;
  for (let j = 0; j < n; j += NR) {
    const columns = min(NR, n - j);
    const yj = y + (<usize>j << 2);
    let even0 = f32x4.splat(0), even1 = even0, odd0 = even0, odd1 = even0;
    if (columns == NR) {
      if (accumulate) { even0 = v128.load(yj); even1 = v128.load(yj, 16); }
      if (bias != 0) {
        even0 = f32x4.add(even0, v128.load(bias + (<usize>j << 2)));
        even1 = f32x4.add(even1, v128.load(bias + (<usize>j << 2), 16));
      }
    }
    let xp = x;
    let b = panels;
    for (let p = 0; p < pairs; p++) {
      const x0 = v128.load32_splat(xp), x1 = v128.load32_splat(xp + xStep);
      even0 = madd(x0, v128.load(b), even0);
      even1 = madd(x0, v128.load(b, 16), even1);
      odd0 = madd(x1, v128.load(b, 32), odd0);
      odd1 = madd(x1, v128.load(b, 48), odd1);
      xp += 2 * xStep;
      b += 64;
    }
    if (k & 1) {
      const x0 = v128.load32_splat(xp);
      even0 = madd(x0, v128.load(b), even0);
      even1 = madd(x0, v128.load(b, 16), even1);
    }
    const sum0 = f32x4.add(even0, odd0), sum1 = f32x4.add(even1, odd1);
    if (columns == NR) {
      v128.store(yj, sum0);
      v128.store(yj, sum1, 16);
    } else {
      // The zero-padded last panel: only its real columns reach y.
      v128.store(tile, sum0);
      v128.store(tile, sum1, 16);
      for (let c = 0; c < columns; c++) {
        const o = <usize>c << 2;
        let v: f32 = accumulate ? load<f32>(yj + o) : 0;
        if (bias != 0) v += load<f32>(bias + (<usize>j << 2) + o);
        store<f32>(yj + o, v + load<f32>(tile + o));
      }
    }
    panels += panelBytes;
  }
}
