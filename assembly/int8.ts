// int8 weights (Linear.freeze({ weights: 'int8' })), as XNNPACK's qd8_f32_qc8w: W is
// quantized once per output column j, s_j = max_p |W(p, j)| / 127, q = round(W / s_j)
// in [−127, 127]; each row i of A is quantized the same way when the call runs, with
// its own s_i (quantizeRows). The products of a row and a column accumulate exactly in
// int32, and C(i, j) = ((β·C) + bias_j) + f32(Σ q·q)·(s_i·s_j).
//
// Exact integers make the kernels' order of summation irrelevant: every split of the
// columns, and every engine, gives the same bits.
import { NR } from "./blocking";

// Depth is taken in pairs, for i32x4.dot_i16x8_s: a panel of NR columns holds 16
// bytes a pair of depths (column c's two at 2c and 2c + 1), rows of A int16s in pairs.
// @ts-ignore: decorator
@inline export function pairedDepth(k: i32): i32 {
  return (k + 1) & ~1;
}

/** Bytes of a k×n B packed as int8 panels. */
export function packedInt8Bytes(k: i32, n: i32): usize {
  return <usize>pairedDepth(k) * <usize>((n + NR - 1) / NR * NR);
}

// The scale of values whose largest magnitude is `max`; NaN when one is NaN or ±Inf,
// so that the outputs they reach are NaN rather than a finite guess.
// @ts-ignore: decorator
@inline function scaleFor(max: f32): f32 {
  return max <= f32.MAX_VALUE ? max / 127 : NaN;
}

// round(value / scale), ties to even, in [−127, 127]; 0 where it is not a number
// (a zero scale: every value is 0; a NaN one: the scale carries the NaN).
// @ts-ignore: decorator
@inline function quantize(value: f32, scale: f32): i32 {
  const q = nearest(value / scale);
  return q == q ? <i32>min(max(q, -127), 127) : 0;
}

// Packs op(B) (k×n, op(B)(p, j) = b[p·rsB + j·csB]) as int8 panels at dst, and each
// column's scale at scales (n floats).
export function packInt8(k: i32, n: i32, b: usize, rsB: i32, csB: i32, dst: usize, scales: usize): void {
  const rowStep = <usize>rsB << 2;
  for (let j = 0; j < n; j++) {
    let largest: f32 = 0;
    const column = b + (<usize>j * <usize>csB << 2);
    for (let p = 0; p < k; p++) largest = max(largest, abs(load<f32>(column + <usize>p * rowStep)));
    store<f32>(scales + (<usize>j << 2), scaleFor(largest));
  }
  const depth = pairedDepth(k);
  for (let j0 = 0; j0 < n; j0 += NR) {
    for (let p = 0; p < depth; p++) {
      for (let c = 0; c < NR; c++) {
        const j = j0 + c;
        const q = j < n && p < k
          ? quantize(load<f32>(b + ((<usize>p * <usize>rsB + <usize>j * <usize>csB) << 2)), load<f32>(scales + (<usize>j << 2)))
          : 0;
        store<i8>(dst + (<usize>(p >> 1) << 4) + (<usize>c << 1) + <usize>(p & 1), <i8>q);
      }
    }
    dst += <usize>depth * NR;
  }
}

// Quantizes the m rows of A (A(i, p) = a[i·rsA + p·csA]) to int16 rows of
// pairedDepth(k) at dst (the last zero past k), and each row's scale at scales.
export function quantizeRows(m: i32, k: i32, a: usize, rsA: i32, csA: i32, dst: usize, scales: usize): void {
  const step = <usize>csA << 2;
  const depth = pairedDepth(k);
  for (let i = 0; i < m; i++) {
    const row = a + (<usize>i * <usize>rsA << 2);
    let largest: f32 = 0;
    for (let p = 0; p < k; p++) largest = max(largest, abs(load<f32>(row + <usize>p * step)));
    const scale = scaleFor(largest);
    store<f32>(scales + (<usize>i << 2), scale);
    const out = dst + (<usize>i * <usize>depth << 1);
    for (let p = 0; p < k; p++) store<i16>(out + (<usize>p << 1), <i16>quantize(load<f32>(row + <usize>p * step), scale));
    if (depth > k) store<i16>(out + (<usize>k << 1), 0);
  }
}

// C (m×n, row stride ldc) = ((β·C) + bias) + (A·B scaled), A quantized
// rows (quantizeRows: int16, rows rsA int16s apart, scaleA: m floats), B int8 panels
// (packInt8, scaleB: n floats, readable up to a multiple of NR). Each panel of B, whole,
// against all the rows of A four at a time, as gemmPackedRows; batch 1 streams it once.
// bias: n floats, or 0; scratch: 4·NR floats.
export function int8GemmPacked(
  m: i32, n: i32, k: i32, a: usize, rsA: i32, scaleA: usize, panels: usize, scaleB: usize,
  c: usize, ldc: i32, beta: f32, bias: usize, scratch: usize,
): void {
  const pairs = pairedDepth(k) >> 1;
  if (m == 1) {
    int8Gemv(n, pairs, a, load<f32>(scaleA), panels, scaleB, c, beta, bias, scratch);
    return;
  }
  const aRow = <usize>rsA << 1, cRow = <usize>ldc << 2;
  const panelBytes = <usize>pairs << 4;
  const tileRow: usize = NR << 2;
  for (let j = 0; j < n; j += NR, panels += panelBytes) {
    const width = min(NR, n - j);
    const offset = <usize>j << 2;
    const cj = c + offset, sj = scaleB + offset;
    const biasj: usize = bias != 0 ? bias + offset : 0;
    for (let i = 0; i < m; i += 4) {
      const rows = min(4, m - i);
      const ai = a + <usize>i * aRow, ci = cj + <usize>i * cRow, si = scaleA + (<usize>i << 2);
      if (rows == 4 && width == NR) {
        int8Tile4x8(pairs, ai, ai + aRow, ai + 2 * aRow, ai + 3 * aRow, si, si + 4, si + 8, si + 12, panels, sj, ci, cRow, beta, biasj);
        continue;
      }
      // A part tile, as gemmPackedRows computes one: whole in scratch from
      // β·C + bias, rows past the last repeating it, part copied back.
      for (let r = 0; r < 4; r++) {
        for (let q = 0; q < NR; q++) {
          let v: f32 = beta != 0 && q < width ? beta * load<f32>(ci + <usize>min(r, rows - 1) * cRow + (<usize>q << 2)) : 0;
          if (biasj != 0 && q < width) v += load<f32>(biasj + (<usize>q << 2));
          store<f32>(scratch + <usize>r * tileRow + (<usize>q << 2), v);
        }
      }
      const last = rows - 1;
      const a1 = ai + <usize>min(1, last) * aRow, a2 = ai + <usize>min(2, last) * aRow, a3 = ai + <usize>last * aRow;
      const s1 = si + (<usize>min(1, last) << 2), s2 = si + (<usize>min(2, last) << 2), s3 = si + (<usize>last << 2);
      int8Tile4x8(pairs, ai, a1, a2, a3, si, s1, s2, s3, panels, sj, scratch, tileRow, true, 0);
      for (let r = 0; r < rows; r++) {
        for (let q = 0; q < width; q++) {
          store<f32>(ci + <usize>r * cRow + (<usize>q << 2), load<f32>(scratch + <usize>r * tileRow + (<usize>q << 2)));
        }
      }
    }
  }
}

// Batch 1: y = ((β·y) + bias) + x·B scaled, B read as three sequential
// streams of panels, a third each, as gemvPacked reads float32 panels (one stream is
// prefetched less well); panels left over after them, one by one. Integer sums make
// the grouping of panels irrelevant to the result.
function int8Gemv(
  n: i32, pairs: i32, x: usize, scaleX: f32, panels: usize, scaleB: usize, y: usize, beta: f32, bias: usize, scratch: usize,
): void {
  const panelBytes = <usize>pairs << 4, end = <usize>pairs << 2;
  const count = (n + NR - 1) / NR, third = count / 3;
  const step = <usize>third * panelBytes, columns = third * NR;
  for (let q = 0; q < third; q++, panels += panelBytes) {
    let a0 = i32x4.splat(0), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0;
    let p = panels;
    for (let at: usize = 0; at < end; at += 4, p += 16) {
      const xv = v128.load32_splat(x + at);
      const u = v128.load(p), v = v128.load(p + step), w = v128.load(p + 2 * step);
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(xv, i16x8.extend_low_i8x16_s(u)));
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(xv, i16x8.extend_high_i8x16_s(u)));
      b0 = i32x4.add(b0, i32x4.dot_i16x8_s(xv, i16x8.extend_low_i8x16_s(v)));
      b1 = i32x4.add(b1, i32x4.dot_i16x8_s(xv, i16x8.extend_high_i8x16_s(v)));
      c0 = i32x4.add(c0, i32x4.dot_i16x8_s(xv, i16x8.extend_low_i8x16_s(w)));
      c1 = i32x4.add(c1, i32x4.dot_i16x8_s(xv, i16x8.extend_high_i8x16_s(w)));
    }
    const j = q * NR;
    finishPanel(n, j, a0, a1, scaleX, scaleB, y, beta, bias, scratch);
    finishPanel(n, j + columns, b0, b1, scaleX, scaleB, y, beta, bias, scratch);
    finishPanel(n, j + 2 * columns, c0, c1, scaleX, scaleB, y, beta, bias, scratch);
  }
  panels += 2 * step;
  for (let q = 3 * third; q < count; q++, panels += panelBytes) {
    let a0 = i32x4.splat(0), a1 = a0;
    let p = panels;
    for (let at: usize = 0; at < end; at += 4, p += 16) {
      const xv = v128.load32_splat(x + at);
      const u = v128.load(p);
      a0 = i32x4.add(a0, i32x4.dot_i16x8_s(xv, i16x8.extend_low_i8x16_s(u)));
      a1 = i32x4.add(a1, i32x4.dot_i16x8_s(xv, i16x8.extend_high_i8x16_s(u)));
    }
    finishPanel(n, q * NR, a0, a1, scaleX, scaleB, y, beta, bias, scratch);
  }
}

// Columns j… (one panel) of the row y from their integer sums; a ragged last panel
// through scratch (NR floats), as the part tiles of int8GemmPacked.
function finishPanel(
  n: i32, j: i32, low: v128, high: v128, scale: f32, scaleB: usize, y: usize, beta: f32, bias: usize, scratch: usize,
): void {
  const offset = <usize>j << 2, width = min(NR, n - j);
  const sLow = v128.load(scaleB + offset), sHigh = v128.load(scaleB + offset, 16);
  const yj = y + offset;
  if (width == NR) {
    finishRow(low, high, scale, sLow, sHigh, yj, beta, bias != 0 ? bias + offset : 0);
    return;
  }
  for (let q = 0; q < NR; q++) {
    let v: f32 = beta != 0 && q < width ? beta * load<f32>(yj + (<usize>q << 2)) : 0;
    if (bias != 0 && q < width) v += load<f32>(bias + offset + (<usize>q << 2));
    store<f32>(scratch + (<usize>q << 2), v);
  }
  finishRow(low, high, scale, sLow, sHigh, scratch, true, 0);
  for (let q = 0; q < width; q++) store<f32>(yj + (<usize>q << 2), load<f32>(scratch + (<usize>q << 2)));
}

// C[4×8] = ((β·C) + bias[8]) + Σ q_a·q_b · (s_a·s_b): four int16 rows of
// A at a0…a3 (a row may repeat), their scales at s0…s3, one int8 panel of `pairs`
// depth pairs, its 8 columns' scales at sB.
function int8Tile4x8(
  pairs: i32, a0: usize, a1: usize, a2: usize, a3: usize, s0: usize, s1: usize, s2: usize, s3: usize,
  panel: usize, sB: usize, c: usize, cRow: usize, beta: f32, bias: usize,
): void {
  let v0 = i32x4.splat(0), u0 = v0, v1 = v0, u1 = v0, v2 = v0, u2 = v0, v3 = v0, u3 = v0;
  for (let at: usize = 0, end = <usize>pairs << 2; at < end; at += 4) {
    const w = v128.load(panel);
    const low = i16x8.extend_low_i8x16_s(w), high = i16x8.extend_high_i8x16_s(w);
    const x0 = v128.load32_splat(a0 + at);
    v0 = i32x4.add(v0, i32x4.dot_i16x8_s(x0, low));
    u0 = i32x4.add(u0, i32x4.dot_i16x8_s(x0, high));
    const x1 = v128.load32_splat(a1 + at);
    v1 = i32x4.add(v1, i32x4.dot_i16x8_s(x1, low));
    u1 = i32x4.add(u1, i32x4.dot_i16x8_s(x1, high));
    const x2 = v128.load32_splat(a2 + at);
    v2 = i32x4.add(v2, i32x4.dot_i16x8_s(x2, low));
    u2 = i32x4.add(u2, i32x4.dot_i16x8_s(x2, high));
    const x3 = v128.load32_splat(a3 + at);
    v3 = i32x4.add(v3, i32x4.dot_i16x8_s(x3, low));
    u3 = i32x4.add(u3, i32x4.dot_i16x8_s(x3, high));
    panel += 16;
  }
  const low = v128.load(sB), high = v128.load(sB, 16);
  finishRow(v0, u0, load<f32>(s0), low, high, c, beta, bias);
  finishRow(v1, u1, load<f32>(s1), low, high, c + cRow, beta, bias);
  finishRow(v2, u2, load<f32>(s2), low, high, c + 2 * cRow, beta, bias);
  finishRow(v3, u3, load<f32>(s3), low, high, c + 3 * cRow, beta, bias);
}

// c[0..8] = ((β·c) + bias) + f32(dots)·(scale·scalesB), dots in two i32x4.
// @ts-ignore: decorator
@inline function finishRow(
  dotsLow: v128, dotsHigh: v128, scale: f32, scalesLow: v128, scalesHigh: v128, c: usize, beta: f32, bias: usize,
): void {
  let low = beta != 0 ? f32x4.mul(v128.load(c), f32x4.splat(beta)) : f32x4.splat(0);
  let high = beta != 0 ? f32x4.mul(v128.load(c, 16), f32x4.splat(beta)) : f32x4.splat(0);
  if (bias != 0) {
    low = f32x4.add(low, v128.load(bias));
    high = f32x4.add(high, v128.load(bias, 16));
  }
  const s = f32x4.splat(scale);
  v128.store(c, f32x4.add(low, f32x4.mul(f32x4.convert_i32x4_s(dotsLow), f32x4.mul(s, scalesLow))));
  v128.store(c, f32x4.add(high, f32x4.mul(f32x4.convert_i32x4_s(dotsHigh), f32x4.mul(s, scalesHigh))), 16);
}
