// A call shared by threads: each runs one block of C, derived here from the whole call
// (as BLIS derives a thread's range from its thread info), never along k. The kernel
// is picked from the whole call and its table entry says where blocks may be cut
// (kernels.ts), so every block computes its elements exactly as one thread would.
import { GemmCall, PACKED_BF16, PACKED_F32, PACKED_INT8 } from "./abi.generated";
import { NR } from "./blocking";
import { int8PanelBytes } from "./int8";
import { kernelFor, runKernel, splitUnit } from "./kernels";

// The cut of the last call looked at: blocks `step` long along columns or rows.
let splitColumns = true;
let splitLength = 0;
let splitStep = 0;

// At most call.parts blocks, each a whole number of units, as equal as that allows.
function split(kernel: i32, call: GemmCall): void {
  const unit = splitUnit(kernel, call.m, call.n);
  splitColumns = unit > 0;
  const size = splitColumns ? unit : -unit;
  splitLength = splitColumns ? call.n : call.m;
  const parts = max(call.parts, 1);
  splitStep = max(size, (splitLength + parts * size - 1) / (parts * size) * size);
}

/** How many blocks `call` splits into (at most call.parts, and at least 1). */
export function gemmBlocks(call: GemmCall): i32 {
  split(kernelFor(call), call);
  return max(1, (splitLength + splitStep - 1) / splitStep);
}

/**
 * Computes block `part` of `call` (0 ≤ part < gemmBlocks(call); a part past the last
 * does nothing). scratch: GEMM_SCRATCH_BYTES owned by the calling thread.
 */
export function gemmBlock(call: GemmCall, part: i32, scratch: usize): void {
  const kernel = kernelFor(call);
  split(kernel, call);
  const start = part * splitStep;
  if (start >= splitLength && part > 0) return;
  const size = min(splitStep, splitLength - start);
  let m = call.m, n = call.n, a = call.a, b = call.b, c = call.c, bias = call.bias, y = call.y, scaleB = call.scaleB;
  if (splitColumns) {
    const offset = <usize>start << 2;
    n = size;
    // Packed B is panels of NR columns, k deep: a block starting on a panel starts
    // start·k weights in (int8: whole panels of int8.ts's layout).
    const format = call.packedB;
    if (format == PACKED_F32) b += offset * <usize>call.k;
    else if (format == PACKED_BF16) b += (offset >> 1) * <usize>call.k;
    else if (format == PACKED_INT8) b += <usize>(start / NR) * int8PanelBytes(call.k);
    else b += offset * <usize>call.csB;
    if (scaleB != 0) scaleB += offset;

    c += offset;
    if (bias != 0) bias += offset;
    if (y != 0) y += offset;
  } else {
    m = size;
    a += (<usize>start * <usize>call.rsA) << 2;
    const rows = (<usize>start * <usize>call.ldc) << 2;
    c += rows;
    if (y != 0) y += rows;
  }
  runKernel(kernel, call, m, n, a, b, scaleB, c, bias, y, scratch);
}
