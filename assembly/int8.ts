// int8 weights (Linear.freeze({ weights: 'int8' })), as XNNPACK's qd8_f32_qc8w: W is
// quantized once per output column j, s_j = max_p |W(p, j)| / 127, q = round(W / s_j)
// in [−127, 127]; each row i of A is quantized when the call runs, with its own s_i
// (quantizeRows). The products of a row and a column accumulate exactly in int32, and
// C(i, j) = ((β·C) + bias_j) + (f32(Σ q·q)·s_i)·s_j.
//
// Two forms of the same arithmetic, by build:
// - SIMD: i32x4.dot_i16x8_s on the weights sign-extended, against rows of A in int16
//   pairs with s_i = max |A(i, ·)| / 127. Depth in pairs: a panel of NR columns holds
//   16 bytes a pair of depths (column c's two at 2c and 2c + 1).
// - Relaxed SIMD: i32x4.relaxed_dot_i8x16_i7x16_add_s, which sums four products of a
//   signed byte and a byte of 7 bits (V8 13.6 lowers it to VNNI's vpdpbusd where the CPU
//   has it: the frozen forward 2.0–2.6× the SIMD form's, bench/microkernels.md session
//   10). Rows of A are quantized to 7 bits, s_i = max |A(i, ·)| / 63,
//   q in [−63, 63], and stored as q + 64 in [1, 127], for which every engine's lowering
//   is exact (a pair of products, at most 2·127², never saturates 16 bits). Depth in
//   quads: a panel holds 32 bytes a quad (column c's four at 4c … 4c + 3), after a
//   header of its columns' −64·Σ_p q(p, c), where the sums start, which takes the 64
//   back out. Wrapping int32 adds make that exact whenever the true sum fits.
//
// Exact integers make the kernels' order of summation irrelevant: every split of the
// columns, and every engine, gives the same bits.
import { NR } from "./blocking";

const QUADS: bool = ASC_FEATURE_RELAXED_SIMD;
// Bytes of a panel per depth group (a pair or a quad), and of its header.
const GROUP_BYTES: usize = QUADS ? 32 : 16;
const HEADER_BYTES: usize = QUADS ? 32 : 0;
// The largest |q| of a row of A, and what is added to it to store it (relaxed: 7 bits, unsigned).
const ROW_LEVELS: f32 = QUADS ? 63 : 127;
const ROW_OFFSET: i32 = QUADS ? 64 : 0;

// Depth rounded up to whole pairs: rows of A are pairedDepth(k) int16s apart in both forms.
// @ts-ignore: decorator
@inline export function pairedDepth(k: i32): i32 {
  return (k + 1) & ~1;
}

// Depth groups (pairs or quads) of a panel.
// @ts-ignore: decorator
@inline function groups(k: i32): i32 {
  return QUADS ? (k + 3) >> 2 : (k + 1) >> 1;
}

// Bytes of one panel of NR columns, k deep.
// @ts-ignore: decorator
@inline export function int8PanelBytes(k: i32): usize {
  return HEADER_BYTES + <usize>groups(k) * GROUP_BYTES;
}

// Where weight (p, c) of a panel is.
// @ts-ignore: decorator
@inline export function int8WeightAt(panel: usize, p: i32, c: i32): usize {
  return QUADS
    ? panel + HEADER_BYTES + (<usize>(p >> 2) << 5) + (<usize>c << 2) + <usize>(p & 3)
    : panel + (<usize>(p >> 1) << 4) + (<usize>c << 1) + <usize>(p & 1);
}

/** Bytes of a k×n B packed as int8 panels. */
export function packedInt8Bytes(k: i32, n: i32): usize {
  return int8PanelBytes(k) * <usize>((n + NR - 1) / NR);
}

// The scale of values whose largest magnitude is `max`; NaN when one is NaN or ±Inf,
// so that the outputs they reach are NaN rather than a finite guess.
// @ts-ignore: decorator
@inline function scaleFor(max: f32, levels: f32): f32 {
  return max <= f32.MAX_VALUE ? max / levels : NaN;
}

// round(value / scale), ties to even, in [−levels, levels]; 0 where it is not a number
// (a zero scale: every value is 0; a NaN one: the scale carries the NaN).
// @ts-ignore: decorator
@inline function quantize(value: f32, scale: f32, levels: f32): i32 {
  const q = nearest(value / scale);
  return q == q ? <i32>min(max(q, -levels), levels) : 0;
}

// Packs op(B) (k×n, op(B)(p, j) = b[p·rsB + j·csB]) as int8 panels at dst, and each
// column's scale at scales (n floats).
export function packInt8(k: i32, n: i32, b: usize, rsB: i32, csB: i32, dst: usize, scales: usize): void {
  const rowStep = <usize>rsB << 2;
  for (let j = 0; j < n; j++) {
    let largest: f32 = 0;
    const column = b + (<usize>j * <usize>csB << 2);
    for (let p = 0; p < k; p++) largest = max(largest, abs(load<f32>(column + <usize>p * rowStep)));
    store<f32>(scales + (<usize>j << 2), scaleFor(largest, 127));
  }
  const panelBytes = int8PanelBytes(k);
  memory.fill(dst, 0, packedInt8Bytes(k, n));
  for (let j0 = 0; j0 < n; j0 += NR, dst += panelBytes) {
    for (let c = 0; c < min(NR, n - j0); c++) {
      const j = j0 + c;
      const scale = load<f32>(scales + (<usize>j << 2));
      let sum = 0;
      for (let p = 0; p < k; p++) {
        const q = quantize(load<f32>(b + ((<usize>p * <usize>rsB + <usize>j * <usize>csB) << 2)), scale, 127);
        store<i8>(int8WeightAt(dst, p, c), <i8>q);
        sum += q;
      }
      if (QUADS) store<i32>(dst + (<usize>c << 2), -ROW_OFFSET * sum);
    }
  }
}

// Quantizes the m rows of A (A(i, p) = a[i·rsA + p·csA]) at dst, rows 2·pairedDepth(k)
// bytes apart, and each row's scale at scales: as int16s (SIMD), or as bytes q + 64
// (relaxed SIMD), to a whole depth group, the depth past k holding 0 (or 64, against
// zero weights).
export function quantizeRows(m: i32, k: i32, a: usize, rsA: i32, csA: i32, dst: usize, scales: usize): void {
  const step = <usize>csA << 2;
  const rowBytes = <usize>pairedDepth(k) << 1;
  const depth = QUADS ? groups(k) << 2 : pairedDepth(k);
  for (let i = 0; i < m; i++) {
    const row = a + (<usize>i * <usize>rsA << 2);
    let largest: f32 = 0;
    for (let p = 0; p < k; p++) largest = max(largest, abs(load<f32>(row + <usize>p * step)));
    const scale = scaleFor(largest, ROW_LEVELS);
    store<f32>(scales + (<usize>i << 2), scale);
    const out = dst + <usize>i * rowBytes;
    for (let p = 0; p < depth; p++) {
      const q = ROW_OFFSET + (p < k ? quantize(load<f32>(row + <usize>p * step), scale, ROW_LEVELS) : 0);
      if (QUADS) store<u8>(out + <usize>p, <u8>q);
      else store<i16>(out + (<usize>p << 1), <i16>q);
    }
  }
}

// The weights of a depth group of one panel (at `at`) for columns 0–3 (low) and 4–7
// (high): on the SIMD build sign-extended to int16 as they are loaded (v128.load8x8_s, one
// x64 instruction, where extend_high of a loaded vector is two). Loaded once for all the
// rows a tile takes them to (Binaryen at shrinkLevel 1 does not merge repeated loads).
// @ts-ignore: decorator
@inline function groupLow(at: usize): v128 {
  return QUADS ? v128.load(at) : v128.load8x8_s(at);
}
// @ts-ignore: decorator
@inline function groupHigh(at: usize): v128 {
  return QUADS ? v128.load(at, 16) : v128.load8x8_s(at, 8);
}

// sums + the products of a group's weights w and a row's group xv (splat). Relaxed SIMD:
// with Dot = u8, the fused dot product and add; with Dot = u16, the 16-bit dot product
// widened and added, for engines whose fused one is wrong (V8 11.3's baseline compiler, in
// Node 20, returns twice the products and drops the addend; the host asks, GemmCall.fusedDot).
// @ts-ignore: decorator
@inline function addGroup<Dot>(w: v128, xv: v128, sums: v128): v128 {
  if (!QUADS) return i32x4.add(sums, i32x4.dot_i16x8_s(xv, w));
  return sizeof<Dot>() == 1
    ? i32x4.relaxed_dot_i8x16_i7x16_add_s(w, xv, sums)
    : i32x4.add(sums, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(w, xv)));
}

// Where a panel's sums start: its header (relaxed SIMD), or zero.
// @ts-ignore: decorator
@inline function startLow(panel: usize): v128 {
  return QUADS ? v128.load(panel) : i32x4.splat(0);
}
// @ts-ignore: decorator
@inline function startHigh(panel: usize): v128 {
  return QUADS ? v128.load(panel, 16) : i32x4.splat(0);
}

// C (m×n, row stride ldc) = ((β·C) + bias) + (A·B scaled), A quantized
// rows (quantizeRows: rows rsA int16s apart, scaleA: m floats), B int8 panels
// (packInt8, scaleB: n floats, readable up to a multiple of NR). Each panel of B, whole,
// against all the rows of A four at a time, as gemmPackedRows; batch 1 streams it once.
// bias: n floats, or 0; scratch: 8·NR floats; fusedDot: whether the relaxed build may
// use the fused dot product (addQuads).
export function int8GemmPacked(
  m: i32, n: i32, k: i32, a: usize, rsA: i32, scaleA: usize, panels: usize, scaleB: usize,
  c: usize, ldc: i32, beta: f32, bias: usize, scratch: usize, fusedDot: bool,
): void {
  if (m == 1) {
    int8Gemv(n, k, a, load<f32>(scaleA), panels, scaleB, c, beta, bias, scratch, fusedDot);
    return;
  }
  const aRow = <usize>rsA << 1, cRow = <usize>ldc << 2;
  const panelBytes = int8PanelBytes(k);
  const tileRow: usize = NR << 2, sums = scratch + 4 * tileRow;
  for (let j = 0; j < n; j += NR, panels += panelBytes) {
    const width = min(NR, n - j);
    const offset = <usize>j << 2;
    const cj = c + offset, sj = scaleB + offset;
    const biasj: usize = bias != 0 ? bias + offset : 0;
    for (let i = 0; i < m; i += 4) {
      const rows = min(4, m - i);
      const ai = a + <usize>i * aRow, ci = cj + <usize>i * cRow, si = scaleA + (<usize>i << 2);
      if (rows == 4 && width == NR) {
        int8Tile4x8(k, ai, ai + aRow, ai + 2 * aRow, ai + 3 * aRow, si, si + 4, si + 8, si + 12, panels, sj, ci, cRow, beta, biasj, fusedDot, sums);
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
      int8Tile4x8(k, ai, a1, a2, a3, si, s1, s2, s3, panels, sj, scratch, tileRow, true, 0, fusedDot, sums);
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
// the grouping of panels irrelevant to the result. The sums of each step go through
// scratch (three panels' at 0…95, a ragged panel's floats at 96…127), so that the two
// forms of the dot product share this function and its calls: the builds then number
// and order their functions alike, and /inline's deflate finds them alike.
function int8Gemv(
  n: i32, k: i32, x: usize, scaleX: f32, panels: usize, scaleB: usize, y: usize, beta: f32, bias: usize, scratch: usize,
  fusedDot: bool,
): void {
  const panelBytes = int8PanelBytes(k), depth = <usize>groups(k) << 2;
  const count = (n + NR - 1) / NR, third = count / 3;
  const step = <usize>third * panelBytes, columns = third * NR;
  const tile = scratch + 96;
  for (let q = 0; q < third; q++, panels += panelBytes) {
    if (QUADS && !fusedDot) sumPanels<u16>(3, panels, step, depth, x, scratch);
    else sumPanels<u8>(3, panels, step, depth, x, scratch);
    for (let s = 0; s < 3; s++) {
      const sums = scratch + (<usize>s << 5);
      finishPanel(n, q * NR + s * columns, v128.load(sums), v128.load(sums, 16), scaleX, scaleB, y, beta, bias, tile);
    }
  }
  panels += 2 * step;
  for (let q = 3 * third; q < count; q++, panels += panelBytes) {
    if (QUADS && !fusedDot) sumPanels<u16>(1, panels, 0, depth, x, scratch);
    else sumPanels<u8>(1, panels, 0, depth, x, scratch);
    finishPanel(n, q * NR, v128.load(scratch), v128.load(scratch, 16), scaleX, scaleB, y, beta, bias, tile);
  }
}

// The integer sums of x against `streams` (1 or 3, a constant) panels `step` bytes
// apart, to sums (32 bytes a panel).
// @ts-ignore: decorator
@inline function sumPanels<Dot>(streams: i32, panels: usize, step: usize, depth: usize, x: usize, sums: usize): void {
  let a0 = startLow(panels), a1 = startHigh(panels);
  let b0 = a0, b1 = a1, c0 = a0, c1 = a1;
  if (streams == 3) {
    b0 = startLow(panels + step); b1 = startHigh(panels + step);
    c0 = startLow(panels + 2 * step); c1 = startHigh(panels + 2 * step);
  }
  let p = panels + HEADER_BYTES;
  for (let at: usize = 0; at < depth; at += 4, p += GROUP_BYTES) {
    const xv = v128.load32_splat(x + at);
    a0 = addGroup<Dot>(groupLow(p), xv, a0);
    a1 = addGroup<Dot>(groupHigh(p), xv, a1);
    if (streams == 3) {
      b0 = addGroup<Dot>(groupLow(p + step), xv, b0);
      b1 = addGroup<Dot>(groupHigh(p + step), xv, b1);
      c0 = addGroup<Dot>(groupLow(p + 2 * step), xv, c0);
      c1 = addGroup<Dot>(groupHigh(p + 2 * step), xv, c1);
    }
  }
  v128.store(sums, a0);
  v128.store(sums, a1, 16);
  if (streams == 3) {
    v128.store(sums, b0, 32);
    v128.store(sums, b1, 48);
    v128.store(sums, c0, 64);
    v128.store(sums, c1, 80);
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

// C[4×8] = ((β·C) + bias[8]) + Σ q_a·q_b · (s_a·s_b): four quantized rows of
// A at a0…a3 (a row may repeat), their scales at s0…s3, one int8 panel k deep,
// its 8 columns' scales at sB. The integer sums go through `sums` (128 bytes), as
// int8Gemv's do.
function int8Tile4x8(
  k: i32, a0: usize, a1: usize, a2: usize, a3: usize, s0: usize, s1: usize, s2: usize, s3: usize,
  panel: usize, sB: usize, c: usize, cRow: usize, beta: f32, bias: usize, fusedDot: bool, sums: usize,
): void {
  if (QUADS && !fusedDot) sumRows<u16>(k, a0, a1, a2, a3, panel, sums);
  else sumRows<u8>(k, a0, a1, a2, a3, panel, sums);
  const low = v128.load(sB), high = v128.load(sB, 16);
  finishRow(v128.load(sums), v128.load(sums, 16), load<f32>(s0), low, high, c, beta, bias);
  finishRow(v128.load(sums, 32), v128.load(sums, 48), load<f32>(s1), low, high, c + cRow, beta, bias);
  finishRow(v128.load(sums, 64), v128.load(sums, 80), load<f32>(s2), low, high, c + 2 * cRow, beta, bias);
  finishRow(v128.load(sums, 96), v128.load(sums, 112), load<f32>(s3), low, high, c + 3 * cRow, beta, bias);
}

// The integer sums of four rows of A against one panel, to sums (32 bytes a row).
// @ts-ignore: decorator
@inline function sumRows<Dot>(k: i32, a0: usize, a1: usize, a2: usize, a3: usize, panel: usize, sums: usize): void {
  let v0 = startLow(panel), u0 = startHigh(panel);
  let v1 = v0, u1 = u0, v2 = v0, u2 = u0, v3 = v0, u3 = u0;
  panel += HEADER_BYTES;
  for (let at: usize = 0, end = <usize>groups(k) << 2; at < end; at += 4, panel += GROUP_BYTES) {
    const low = groupLow(panel), high = groupHigh(panel);
    const x0 = v128.load32_splat(a0 + at);
    v0 = addGroup<Dot>(low, x0, v0);
    u0 = addGroup<Dot>(high, x0, u0);
    const x1 = v128.load32_splat(a1 + at);
    v1 = addGroup<Dot>(low, x1, v1);
    u1 = addGroup<Dot>(high, x1, u1);
    const x2 = v128.load32_splat(a2 + at);
    v2 = addGroup<Dot>(low, x2, v2);
    u2 = addGroup<Dot>(high, x2, u2);
    const x3 = v128.load32_splat(a3 + at);
    v3 = addGroup<Dot>(low, x3, v3);
    u3 = addGroup<Dot>(high, x3, u3);
  }
  v128.store(sums, v0);
  v128.store(sums, u0, 16);
  v128.store(sums, v1, 32);
  v128.store(sums, u1, 48);
  v128.store(sums, v2, 64);
  v128.store(sums, u2, 80);
  v128.store(sums, v3, 96);
  v128.store(sums, u3, 112);
}

// c[0..8] = ((β·c) + bias) + (f32(dots)·scale)·scalesB, dots in two i32x4. Scaled by the
// row's scale, then the column's: scale·scalesB alone leaves float32's range (or loses
// bits as a subnormal) for rows and columns of large (or small) values whose product does not.
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
  v128.store(c, f32x4.add(low, f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(dotsLow), s), scalesLow)));
  v128.store(c, f32x4.add(high, f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(dotsHigh), s), scalesHigh)), 16);
}
