import { madd } from "./simd";
import { NR } from "./blocking";
import { startRow } from "./few-rows";
import { HIGH_HALF, panelHigh, panelLow } from "./bf16";

// y = β·y + bias + x·B for one row of output, B given packed
// (packB, or packBf16 with W = u16): panels of NR columns, each k rows of NR weights. B is read as
// sequential streams, a part of the panels each, far apart as gemmRows reads its rows, and each
// stream has two accumulators to hide the multiply-add's latency: one stream with two chains per
// column ran 50–54 GB/s at 1×1024×1024 from L3 and 25–34 from memory, three streams 57–66 and
// 27–34 (bench/microkernels.md). float32 takes three streams: a fourth spills, its 8 sums and 8
// loaded vectors being more than the 15 vector registers V8 allocates. A bfloat16 panel gives its
// 8 weights of a depth from one load, so four streams fit, and ran 1.3–1.6× faster than three.
//
// Each column sums its depths in order onto β·y + bias, whichever
// panels it is read beside, so any split of the columns gives the same results.
//
// x(p) = x[p·incX]; y and bias: n contiguous floats; scratch: 2·NR floats.
export function gemvPacked<W>(
  n: i32, k: i32, x: usize, incX: i32, panels: usize, y: usize, beta: f32, bias: usize, scratch: usize,
): void {
  startRow(n, y, beta, bias);
  const streams = streamsOf<W>();
  const xStep = <usize>incX << 2;
  const panelBytes = <usize>k * NR * sizeof<W>();
  const panelFloats = <usize>NR << 2;
  const count = (n + NR - 1) / NR;
  const part = count / streams;
  const stream = <usize>part * panelBytes;
  const columns = <usize>part * panelFloats;
  // Only the last panel may be ragged: the last of the last stream, or of those left over.
  const lastWidth = n - (count - 1) * NR;
  const left = count - streams * part;
  for (let q = 0; q < part; q++) {
    const yq = y + <usize>q * panelFloats;
    const width = q == part - 1 && left == 0 ? lastWidth : NR;
    addPanels<W>(k, x, xStep, panels, stream, yq, yq + columns, yq + 2 * columns, yq + 3 * columns, width, scratch);
    panels += panelBytes;
  }
  if (left == 0) return;
  // The panels left over, after the last stream's part: read beside as many panels before
  // them as make up the streams (their sums, had already, going to scratch), or, where
  // there are none before them, one at a time, beside themselves.
  const spare = scratch + panelFloats;
  const first = panels + <usize>(streams - 1) * stream;
  const yFirst = y + <usize>(streams * part) * panelFloats;
  if (part > 0) {
    const again = streams - left;
    addPanels<W>(
      k, x, xStep, first - <usize>again * panelBytes, panelBytes,
      leftY(0, again, yFirst, spare), leftY(1, again, yFirst, spare), leftY(2, again, yFirst, spare), leftY(3, again, yFirst, spare),
      lastWidth, scratch,
    );
    return;
  }
  for (let q = 0; q < left; q++) {
    const yq = yFirst + <usize>q * panelFloats;
    addPanels<W>(k, x, xStep, first + <usize>q * panelBytes, 0, spare, spare, streams == 3 ? yq : spare, yq, q == left - 1 ? lastWidth : NR, scratch);
  }
}

// @ts-ignore: decorator
@inline function streamsOf<W>(): i32 {
  return sizeof<W>() == 4 ? 3 : 4;
}

// Where stream s of the call over the panels left over adds its sums: the first `again` streams
// read panels done before, to scratch; the others the left-over panels from yFirst on.
// @ts-ignore: decorator
@inline function leftY(s: i32, again: i32, yFirst: usize, spare: usize): usize {
  return s < again ? spare : yFirst + (<usize>(s - again) * NR << 2);
}

// y0…y3 (NR floats each; y3 read only with four streams) += x·panel, x·(panel + step), …,
// the last stream's y of `width` ≤ NR floats, its panel zero-padded past them.
// tile: NR floats of scratch.
function addPanels<W>(
  k: i32, x: usize, xStep: usize, panel: usize, step: usize, y0: usize, y1: usize, y2: usize, y3: usize, width: i32, tile: usize,
): void {
  const four = streamsOf<W>() == 4;
  const yLast = four ? y3 : y2;
  const ragged = width != NR;
  if (ragged) for (let c = 0; c < width; c++) store<f32>(tile + (<usize>c << 2), load<f32>(yLast + (<usize>c << 2)));
  const last = ragged ? tile : yLast;
  if (four) y3 = last;
  else y2 = last;
  let a0 = v128.load(y0), a1 = v128.load(y0, 16);
  let b0 = v128.load(y1), b1 = v128.load(y1, 16);
  let c0 = v128.load(y2), c1 = v128.load(y2, 16);
  let d0 = c0, d1 = c1;
  if (four) {
    d0 = v128.load(y3);
    d1 = v128.load(y3, 16);
  }
  const step2 = step << 1, step3 = step2 + step;
  const highHalf = i32x4.splat(HIGH_HALF);
  const xEnd = x + <usize>k * xStep;
  let p = panel;
  for (; x < xEnd; x += xStep) {
    const xv = v128.load32_splat(x);
    const a = v128.load(p), b = v128.load(p + step), c = v128.load(p + step2);
    a0 = madd(xv, panelLow<W>(a), a0);
    a1 = madd(xv, panelHigh<W>(a, p, highHalf), a1);
    b0 = madd(xv, panelLow<W>(b), b0);
    b1 = madd(xv, panelHigh<W>(b, p + step, highHalf), b1);
    c0 = madd(xv, panelLow<W>(c), c0);
    c1 = madd(xv, panelHigh<W>(c, p + step2, highHalf), c1);
    if (four) {
      const d = v128.load(p + step3);
      d0 = madd(xv, panelLow<W>(d), d0);
      d1 = madd(xv, panelHigh<W>(d, p + step3, highHalf), d1);
    }
    p += NR * sizeof<W>();
  }
  v128.store(y0, a0);
  v128.store(y0, a1, 16);
  v128.store(y1, b0);
  v128.store(y1, b1, 16);
  v128.store(y2, c0);
  v128.store(y2, c1, 16);
  if (four) {
    v128.store(y3, d0);
    v128.store(y3, d1, 16);
  }
  if (ragged) for (let c = 0; c < width; c++) store<f32>(yLast + (<usize>c << 2), load<f32>(tile + (<usize>c << 2)));
}
