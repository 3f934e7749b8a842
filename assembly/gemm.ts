// The blocked GEMM (the five loops of BLIS around the register tile), its transposed
// form for thin products, and the packing of B ahead of time.
import { MR, NR, KC, MC, NC } from "./blocking";
import { packPanels } from "./pack";
import { f32GemmTileMRx8, f32GemmTileMRx4 } from "./gemm-tile";
import { activateTile, NONE } from "./activations";

// Scratch one GEMM call needs: packed A block, packed B block, packed bias, edge tile.
const PACKED_A_BYTES: usize = <usize>(MC * KC) << 2;
const PACKED_B_BYTES: usize = <usize>(KC * NC) << 2;
const PACKED_BIAS_BYTES: usize = <usize>NC << 2;
const TILE_BYTES: usize = <usize>(MR * NR) << 2;
export const GEMM_SCRATCH_BYTES: usize = PACKED_A_BYTES + PACKED_B_BYTES + PACKED_BIAS_BYTES + TILE_BYTES;

// At most this many columns of C, with A's rows contiguous, Cᵀ is computed (thinProduct).
export const THIN_COLUMNS: i32 = 12;
// Cᵀ is formed in scratch, past what the blocked product of Cᵀ itself uses of the
// packed-B area (its B, op(A)ᵀ, is read in place: two panel buffers of KC×NR floats).
const THIN_OFFSET: usize = <usize>(2 * KC * NR) << 2;
const THIN_FLOATS: i32 = <i32>((PACKED_B_BYTES - THIN_OFFSET) >> 2);

// Width of the narrow tile that takes a last panel of at most this many columns.
const NARROW: i32 = 4;

// Up to this many rows of C, B whose rows are 4 KiB apart is streamed in place as it is.
const ALIASED_DIRECT_ROWS: i32 = 12;

// B as packB leaves it: in NR-column panels of all k rows (panel q at b + q·k·NR floats).
export function packedBFloats(k: i32, n: i32): usize {
  return <usize>k * <usize>((n + NR - 1) / NR * NR);
}

// Packs B (k×n, B(p, j) = b[p·rsB + j·csB]) once, for gemmPackedB to use as often as
// it likes: panels of NR columns, each all k rows deep, the last zero-padded.
export function packB(k: i32, n: i32, b: usize, rsB: i32, csB: i32, dst: usize): void {
  packPanels(b, csB, rsB, n, k, NR, dst);
}

// C (m×n, row stride ldc) = β·C + bias + op(A)·op(B), and then,
// unless activation is NONE, Y = f(C) (same strides) for the activation f numbered
// in scripts/abi.mjs, applied to each tile as it is finished, while it is in L1.
//
// op(A)(i, p) = a[i·rsA + p·csA]   (m×k)
// op(B)(p, j) = b[p·rsB + j·csB]   (k×n)
// Strides are in floats, so a transposed operand is the same call with its strides
// swapped. bias: n floats added to every row, or 0. With accumulate false, C is
// only written, never read (it may hold NaN). scratch: GEMM_SCRATCH_BYTES, owned by
// the caller, so that concurrent callers on one memory each bring their own.
//
// The five loops of BLIS: NC columns of B, KC of depth (pack B), MC rows of A
// (pack A), then NR and MR in the macrokernel around the MR×NR microkernel. B is
// read in place, packed block by block, or, with prepacked, taken as packB left it.
export function blocked(
  m: i32, n: i32, k: i32,
  a: usize, rsA: i32, csA: i32,
  b: usize, rsB: i32, csB: i32, prepacked: bool,
  c: usize, ldc: i32, beta: f32, bias: usize,
  activation: i32, slope: f32, y: usize, scratch: usize,
): void {
  const packedA = scratch;
  const packedB = packedA + PACKED_A_BYTES;
  const packedBias = packedB + PACKED_B_BYTES;
  const tile = packedBias + PACKED_BIAS_BYTES;

  // Where the rows of B are contiguous (B as stored, not transposed) the register tile
  // streams them in place: no packing, which saves most at small batches. Only a
  // ragged last panel is packed (zero-padded). Rows a multiple of 4 KiB apart all
  // fall in the same L1 sets and evict each other on every pass of a row panel of A
  // over them. Measured at 1024×1024 and 512×2048 (bench/microkernels.md): up to 12
  // rows of C there are too few passes to matter; up to one block of A (MC rows)
  // each panel is copied to L1 just before its passes (1.05–1.1× packing the whole
  // block, which is 1.1–1.4× slower up to 8 rows); past that the block is packed,
  // as any other B.
  const aliased = (rsB & 1023) == 0;
  const direct = !prepacked && csB == 1 && (!aliased || m <= MC);
  const copyPanels = direct && aliased && m > ALIASED_DIRECT_ROWS;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    const ragged = nc % NR;
    if (bias != 0) packPanels(bias + (<usize>jc << 2), 1, 0, nc, 1, NR, packedBias);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const full = nc - ragged;
      // Where each NR-wide panel of this block of B is (`panelStep` bytes apart, rows
      // `rowStep` apart), and the ragged last one, packed 4 wide where it fits (see
      // f32GemmTileMRx4): after the full panels, or alone when B is read in place.
      let panels: usize, panelStep: usize, rowStep: usize, raggedPanel: usize;
      let narrowRagged = ragged <= NARROW;
      if (prepacked) {
        panels = b + ((<usize>jc * <usize>k + <usize>pc * NR) << 2);
        panelStep = <usize>k * NR << 2;
        rowStep = NR << 2;
        raggedPanel = panels + <usize>(full / NR) * panelStep;
        narrowRagged = false;
      } else {
        const bBlock = b + ((<usize>pc * <usize>rsB + <usize>jc * <usize>csB) << 2);
        panels = direct ? bBlock : packedB;
        panelStep = direct ? <usize>NR << 2 : <usize>kc * NR << 2;
        rowStep = direct ? <usize>rsB << 2 : NR << 2;
        raggedPanel = direct ? packedB : packedB + ((<usize>full * <usize>kc) << 2);
        if (!direct) packPanels(bBlock, csB, rsB, full, kc, NR, packedB);
        if (ragged != 0) {
          const raggedSrc = bBlock + ((<usize>full * <usize>csB) << 2);
          packPanels(raggedSrc, csB, rsB, ragged, kc, narrowRagged ? NARROW : NR, raggedPanel);
        }
      }
      // Bias and the caller's accumulate flag apply once, on the first depth block;
      // later blocks add onto what the earlier ones wrote.
      const first = pc == 0;
      const blockBias: usize = first && bias != 0 ? packedBias : 0;
      const blockBeta: f32 = first ? beta : 1;
      const blockActivation = pc + kc == k ? activation : NONE;
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packPanels(a + ((<usize>ic * <usize>rsA + <usize>pc * <usize>csA) << 2), rsA, csA, mc, kc, MR, packedA);
        macrokernel(
          mc, nc, kc, packedA, panels, panelStep, rowStep, raggedPanel, narrowRagged, copyPanels, packedB, blockBias,
          c + ((<usize>ic * <usize>ldc + <usize>jc) << 2), ldc, blockBeta, tile,
          blockActivation, slope, y - c,
        );
      }
    }
  }
}

// Sweeps one packed mc×kc block of A against one kc×nc block of B. Each NR-wide
// panel of B stays in L1 while every MR-row panel of A passes over it. Full panels are
// at `panels` + q·panelStep with rows rowStep apart, each first copied to a
// contiguous one in `panelBuffer` if copyPanels; the ragged last is at raggedPanel,
// 4 wide if narrowRagged, else 8. Ragged edge tiles are computed whole into `tile`
// and only their valid part is copied out, so nothing outside C is read or written.
function macrokernel(
  mc: i32, nc: i32, kc: i32, packedA: usize,
  panels: usize, panelStep: usize, rowStep: usize, raggedPanel: usize, narrowRagged: bool,
  copyPanels: bool, panelBuffer: usize,
  bias: usize, c: usize, ldc: i32, beta: f32, tile: usize,
  activation: i32, slope: f32, activatedOffset: usize,
): void {
  const rowStride = <usize>ldc << 2;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const narrow = nr < NR && narrowRagged;
    let bPanel = nr < NR ? raggedPanel : panels + <usize>(jr / NR) * panelStep;
    let bStride: usize = nr < NR ? <usize>(narrow ? NARROW : NR) << 2 : rowStep;
    if (nr == NR && copyPanels) {
      const panel = panelBuffer + (<usize>(KC * NR) << 2);
      packPanels(bPanel, 1, <i32>(rowStep >> 2), NR, kc, NR, panel);
      bPanel = panel;
      bStride = NR << 2;
    }
    const biasPanel: usize = bias != 0 ? bias + (<usize>jr << 2) : 0;
    for (let ir = 0; ir < mc; ir += MR) {
      const mr = min(MR, mc - ir);
      const aPanel = packedA + (<usize>ir * <usize>kc << 2);
      const cTile = c + <usize>ir * rowStride + (<usize>jr << 2);
      if (mr == MR && nr == NR) {
        f32GemmTileMRx8(kc, aPanel, bPanel, bStride, biasPanel, cTile, rowStride, beta);
      } else if (mr == MR && nr == NARROW) {
        f32GemmTileMRx4(kc, aPanel, bPanel, bStride, biasPanel, cTile, rowStride, beta);
      } else {
        if (narrow) f32GemmTileMRx4(kc, aPanel, bPanel, bStride, biasPanel, tile, <usize>NR << 2, false);
        else f32GemmTileMRx8(kc, aPanel, bPanel, bStride, biasPanel, tile, <usize>NR << 2, false);
        copyTile(tile, mr, nr, cTile, rowStride, beta);
      }
      if (activation != NONE) activateTile(activation, slope, cTile, cTile + activatedOffset, mr, nr, ldc);
    }
  }
}

function copyTile(tile: usize, mr: i32, nr: i32, c: usize, rowStride: usize, beta: f32): void {
  for (let i = 0; i < mr; i++) {
    const src = tile + (<usize>(i * NR) << 2);
    const dst = c + <usize>i * rowStride;
    for (let j = 0; j < nr; j++) {
      const o = <usize>j << 2;
      const value = load<f32>(src + o);
      store<f32>(dst + o, beta != 0 ? beta * load<f32>(dst + o) + value : value);
    }
  }
}

// C (m×n) = β·C + bias + op(A)·op(B) for n ≤ THIN_COLUMNS and
// op(A)(i, p) = a[i + p·csA]: Cᵀ = op(B)ᵀ·op(A)ᵀ by the blocked product, in chunks
// of rows of C that fit in scratch, each added into C transposed.
export function thinProduct(
  m: i32, n: i32, k: i32, a: usize, csA: i32, b: usize, rsB: i32, csB: i32,
  c: usize, ldc: i32, beta: f32, bias: usize, activation: i32, slope: f32, y: usize, scratch: usize,
): void {
  const transposed = scratch + PACKED_A_BYTES + THIN_OFFSET;
  // Whole panels of Cᵀ per chunk, so that a block of rows starting on a multiple of NR
  // (as threads.ts splits thin calls) sees the same tiles as the undivided call.
  const chunk = THIN_FLOATS / n / NR * NR;
  const rowStride = <usize>ldc << 2;
  for (let i0 = 0; i0 < m; i0 += chunk) {
    const rows = min(chunk, m - i0);
    blocked(n, rows, k, b, csB, rsB, a + (<usize>i0 << 2), csA, 1, false, transposed, rows, false, 0, NONE, 0, transposed, scratch);
    const cRows = c + <usize>i0 * rowStride;
    addTransposed(transposed, rows, n, cRows, rowStride, beta, bias);
    if (activation != NONE) activateTile(activation, slope, cRows, cRows + (y - c), rows, n, ldc);
  }
}

// C (rows×n) = β·C + bias + tᵀ, t being n×rows contiguous.
function addTransposed(t: usize, rows: i32, n: i32, c: usize, rowStride: usize, beta: f32, bias: usize): void {
  const column = <usize>rows << 2;
  for (let i = 0; i < rows; i++) {
    const src = t + (<usize>i << 2);
    for (let j = 0; j < n; j++) {
      const o = <usize>j << 2;
      let v: f32 = beta != 0 ? beta * load<f32>(c + o) : 0;
      if (bias != 0) v += load<f32>(bias + o);
      store<f32>(c + o, v + load<f32>(src + <usize>j * column));
    }
    c += rowStride;
  }
}
