import { madd } from "./simd";
import { NR } from "./blocking";
import { startRow } from "./few-rows";
import { HIGH_HALF, panelHigh, panelLow } from "./bf16";

// y = β·y + bias + x·B for one row of output, B given packed
// (packB, or packBf16 with W = u16): panels of NR columns, each k rows of NR weights. B is read as three
// sequential streams, a third of the panels each, far apart as gemmRows reads its
// rows, and six accumulators hide the multiply-add's latency: one stream with two
// chains per column ran 50–54 GB/s at 1×1024×1024 from L3 and 25–34 from memory,
// these three streams 57–66 and 27–34 (bench/microkernels.md).
//
// Each column sums its depths in order onto β·y + bias, whichever
// panels it is read beside, so any split of the columns gives the same results.
//
// x(p) = x[p·incX]; y and bias: n contiguous floats; scratch: 3·NR floats.
export function gemvPacked<W>(
  n: i32, k: i32, x: usize, incX: i32, panels: usize, y: usize, beta: f32, bias: usize, scratch: usize,
): void {
  startRow(n, y, beta, bias);
  const xStep = <usize>incX << 2;
  const panelBytes = <usize>k * NR * sizeof<W>();
  const panelFloats = <usize>NR << 2;
  const count = (n + NR - 1) / NR;
  const third = count / 3;
  const stream = <usize>third * panelBytes;
  const streamColumns = <usize>third * panelFloats;
  // Only the last panel may be ragged: the last of the third stream, or of those left over.
  const lastWidth = n - (count - 1) * NR;
  for (let q = 0; q < third; q++) {
    const yq = y + <usize>q * panelFloats;
    const width = q == third - 1 && count == 3 * third ? lastWidth : NR;
    addThreePanels<W>(k, x, xStep, panels, stream, yq, yq + streamColumns, yq + 2 * streamColumns, width, scratch);
    panels += panelBytes;
  }
  // One or two panels left over: read beside themselves, the extra sums going to scratch.
  const left = count - 3 * third;
  if (left == 0) return;
  const first = panels + 2 * stream;
  const yFirst = y + <usize>(3 * third) * panelFloats;
  const spare = scratch + panelFloats;
  if (left == 1) addThreePanels<W>(k, x, xStep, first, 0, spare, spare + panelFloats, yFirst, lastWidth, scratch);
  else addThreePanels<W>(k, x, xStep, first, panelBytes >> 1, yFirst, spare, yFirst + panelFloats, lastWidth, scratch);
}

// y1, y2 (NR floats each) and y3 (width ≤ NR floats) += x·panel, x·panel2, x·panel3,
// where panel2 is `step` bytes past panel and panel3 2·step (NR floats a depth step,
// zero-padded past width in panel3). tile: NR floats of scratch.
function addThreePanels<W>(
  k: i32, x: usize, xStep: usize, panel: usize, step: usize, y1: usize, y2: usize, y3: usize, width: i32, tile: usize,
): void {
  let a0 = v128.load(y1), a1 = v128.load(y1, 16);
  let b0 = v128.load(y2), b1 = v128.load(y2, 16);
  let c0: v128, c1: v128;
  if (width == NR) {
    c0 = v128.load(y3);
    c1 = v128.load(y3, 16);
  } else {
    for (let c = 0; c < width; c++) store<f32>(tile + (<usize>c << 2), load<f32>(y3 + (<usize>c << 2)));
    c0 = v128.load(tile);
    c1 = v128.load(tile, 16);
  }
  const step2 = step << 1;
  const highHalf = i32x4.splat(HIGH_HALF);
  const xEnd = x + <usize>k * xStep;
  let p = panel;
  for (; x < xEnd; x += xStep) {
    const xv = v128.load32_splat(x);
    a0 = madd(xv, panelLow<W>(p), a0);
    a1 = madd(xv, panelHigh<W>(p, highHalf), a1);
    b0 = madd(xv, panelLow<W>(p + step), b0);
    b1 = madd(xv, panelHigh<W>(p + step, highHalf), b1);
    c0 = madd(xv, panelLow<W>(p + step2), c0);
    c1 = madd(xv, panelHigh<W>(p + step2, highHalf), c1);
    p += NR * sizeof<W>();
  }
  v128.store(y1, a0);
  v128.store(y1, a1, 16);
  v128.store(y2, b0);
  v128.store(y2, b1, 16);
  if (width == NR) {
    v128.store(y3, c0);
    v128.store(y3, c1, 16);
  } else {
    v128.store(tile, c0);
    v128.store(tile, c1, 16);
    for (let c = 0; c < width; c++) store<f32>(y3 + (<usize>c << 2), load<f32>(tile + (<usize>c << 2)));
  }
}
