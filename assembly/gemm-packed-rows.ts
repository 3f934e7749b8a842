import { NR } from "./blocking";
import { f32GemmTile2x16, f32GemmTile4x8 } from "./gemm-tile";

// C (m×n) = β·C + bias + A·B for a few rows of output (2 to ROWS_MAX,
// kernels.ts), B given packed (packB, or packBf16 with W = u16): panels of NR columns,
// each k rows of NR weights, one after another. Bound by reading B, which is read once, as one sequential stream:
// each panel, whole, against all the rows of A four at a time (it is in L1 for the
// next four), and the rows past a multiple of four against two panels at once. The blocked product instead cuts each panel into KC-deep pieces a panel
// apart, which the prefetchers follow poorly, and spends its 5- or 6-row tile on two.
//
// Each element is computed by the same operations wherever its panel lies, so threads
// may cut C on panels. A(i, p) = a[i·rsA + p·csA]; bias: n floats, or 0;
// scratch: 4·NR floats, for a tile of fewer rows or columns than 4×NR.
export function gemmPackedRows<W>(
  m: i32, n: i32, k: i32, a: usize, rsA: i32, csA: i32, panels: usize,
  c: usize, ldc: i32, beta: f32, bias: usize, scratch: usize,
): void {
  const aRow = <usize>rsA << 2, aStep = <usize>csA << 2, cRow = <usize>ldc << 2;
  const panelBytes = <usize>k * NR * sizeof<W>(), panelRow = NR * sizeof<W>();
  const tileRow: usize = NR << 2;
  const whole = m & ~3, rest = m - whole;
  for (let j = 0; j < n; j += NR) {
    const width = min(NR, n - j);
    const cj = c + (<usize>j << 2);
    const biasj: usize = bias != 0 ? bias + (<usize>j << 2) : 0;
    // Two whole panels at once, where there are, for one or two rows past a multiple of
    // four (a batch of 2): alone on one panel they keep too few chains of multiply-adds
    // going to keep up with the stream of B. Three rows take a part tile of four.
    const pair = (rest == 1 || rest == 2) && j + 2 * NR <= n;
    const fours = pair ? whole : m; // with a pair, the rest is left to the tiles of two panels
    for (let i = 0; i < fours; i += 4) {
      const rows = min(4, m - i);
      const ai = a + <usize>i * aRow, ci = cj + <usize>i * cRow;
      if (rows == 4 && width == NR) {
        f32GemmTile4x8<W>(k, ai, ai + aRow, ai + 2 * aRow, ai + 3 * aRow, aStep, panels, panelRow, ci, cRow, beta, biasj);
        continue;
      }
      // A part tile: computed whole in scratch from β·C + bias, rows
      // past the last repeating it, and only its part copied back.
      for (let r = 0; r < 4; r++) {
        for (let q = 0; q < NR; q++) {
          const at = ci + <usize>min(r, rows - 1) * cRow + (<usize>q << 2);
          let v: f32 = beta != 0 && q < width ? beta * load<f32>(at) : 0;
          if (biasj != 0 && q < width) v += load<f32>(biasj + (<usize>q << 2));
          store<f32>(scratch + <usize>r * tileRow + (<usize>q << 2), v);
        }
      }
      const last = ai + <usize>(rows - 1) * aRow;
      f32GemmTile4x8<W>(k, ai, min(ai + aRow, last), min(ai + 2 * aRow, last), last, aStep, panels, panelRow, scratch, tileRow, 1, 0);
      for (let r = 0; r < rows; r++) {
        for (let q = 0; q < width; q++) {
          store<f32>(ci + <usize>r * cRow + (<usize>q << 2), load<f32>(scratch + <usize>r * tileRow + (<usize>q << 2)));
        }
      }
    }
    if (pair) {
      // The next panel against every four rows, then the rest against both.
      const next = panels + panelBytes, cNext = cj + (NR << 2), biasNext: usize = biasj != 0 ? biasj + (NR << 2) : 0;
      for (let i = 0; i < whole; i += 4) {
        const ai = a + <usize>i * aRow;
        f32GemmTile4x8<W>(k, ai, ai + aRow, ai + 2 * aRow, ai + 3 * aRow, aStep, next, panelRow, cNext + <usize>i * cRow, cRow, beta, biasNext);
      }
      const ai = a + <usize>whole * aRow, ci = cj + <usize>whole * cRow;
      f32GemmTile2x16<W>(rest, k, ai, ai + aRow, aStep, panels, panelBytes, panelRow, ci, cRow, beta, biasj);
      j += NR;
      panels = next;
    }
    panels += panelBytes;
  }
}
