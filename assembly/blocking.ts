// Register tile and cache blocks of the GEMM, in float32 elements.
//
// MR×NR = 4×8: eight f32x4 accumulators, two vectors of B and one broadcast of A
// make 11 live v128 values, inside the 15 xmm registers V8 allocates on x86
// (a 6×8 tile needs 12 accumulators and spills).
export const MR: i32 = 4;
export const NR: i32 = 8;

// KC: depth of one packed block. A KC×NR panel of B (8 KiB) stays in L1 while
// the microkernel sweeps the MC×KC block of A (64 KiB) held in L2.
export const KC: i32 = 256;
export const MC: i32 = 64;
// NC: width of the packed block of B (KC×NC floats = 2 MiB), kept in L3.
export const NC: i32 = 2048;
