// Register tile and cache blocks of the GEMM, in float32 elements.
//
// The tile is sized by V8's x86 register file: it allocates xmm0–xmm14 and spills
// past them, and a f32x4 add chain needs about a dozen independent accumulators
// to hide its latency. Measured per tile (bench/microkernels.md):
//   SIMD, mul + add:  MR×NR = 5×8: 10 accumulators + 2 vectors of B + a splat of A
//                     + a product = 15 registers. (4×8 is latency-bound, 6×8 spills.)
//   relaxed SIMD, fused multiply-add: 6×8, since an FMA needs no register for the
//                     product: 12 + 2 + 1 = 15.
export const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 5;
export const NR: i32 = 8;

// KC: depth of one packed block. A KC×NR panel of B (8 KiB) stays in L1 while
// the microkernel sweeps the MC×KC block of A held in L2.
export const KC: i32 = 256;
export const MC: i32 = MR * 24;
// NC: width of the packed block of B (KC×NC floats = 2 MiB), kept in L3.
export const NC: i32 = 2048;
