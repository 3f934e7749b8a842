// The same Linear layer as quantized ONNX models, as onnxruntime's own tools write them:
// int8 weights per output column with activations quantized on the fly (quantize_dynamic's
// DynamicQuantizeLinear → MatMulInteger → Cast → Mul, which ORT fuses into its
// DynamicQuantizeMatMul contrib op), and 4-bit weights in blocks of 32 (MatMulNBits).
import { DataType, onnxGraph } from './onnx-model.js';

/** Per output column j (W is k×n row-major): max |W(·, j)| / levels. */
function columnScales(w: Float32Array, k: number, n: number, levels: number): Float32Array {
  const scales = new Float32Array(n);
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) scales[j] = Math.max(scales[j], Math.abs(w[p * n + j]));
  return scales.map((s) => (s > 0 ? s / levels : 1));
}

/** C = A·W with W int8 per column (zero point 0), A quantized per call to uint8 by DynamicQuantizeLinear. */
export function dynamicInt8Model(w: Float32Array, m: number, k: number, n: number): Uint8Array {
  const scales = columnScales(w, k, n, 127);
  const q = Int8Array.from(w, (v, at) => Math.max(-127, Math.min(127, Math.round(v / scales[at % n]))));
  return onnxGraph([
    { opType: 'DynamicQuantizeLinear', inputs: ['A'], outputs: ['Aq', 'As', 'Az'] },
    { opType: 'Mul', inputs: ['As', 'Bs'], outputs: ['S'] },
    { opType: 'MatMulInteger', inputs: ['Aq', 'Bq', 'Az', 'Bz'], outputs: ['Ci'] },
    { opType: 'Cast', attributes: { to: DataType.float }, inputs: ['Ci'], outputs: ['Cf'] },
    { opType: 'Mul', inputs: ['Cf', 'S'], outputs: ['C'] },
  ], [
    { name: 'Bq', type: DataType.int8, dims: [k, n], data: q },
    { name: 'Bs', type: DataType.float, dims: [n], data: scales },
    { name: 'Bz', type: DataType.int8, dims: [n], data: new Int8Array(n) },
  ], [m, k], [m, n]);
}

const BLOCK = 32;

/**
 * C = A·W with W in 4 bits, blocks of 32 along k per output column, each with its scale and
 * the default zero point 8 (MatMulNBits: B is N × blocks × 16 bytes, two weights a byte, low nibble first).
 */
export function int4Model(w: Float32Array, m: number, k: number, n: number): Uint8Array {
  const blocks = Math.ceil(k / BLOCK);
  const packed = new Uint8Array(n * blocks * (BLOCK / 2));
  const scales = new Float32Array(n * blocks);
  for (let j = 0; j < n; j++) {
    for (let b = 0; b < blocks; b++) {
      let largest = 0;
      for (let p = b * BLOCK; p < Math.min(k, (b + 1) * BLOCK); p++) largest = Math.max(largest, Math.abs(w[p * n + j]));
      const scale = largest > 0 ? largest / 7 : 1;
      scales[j * blocks + b] = scale;
      for (let t = 0; t < BLOCK; t++) {
        const p = b * BLOCK + t;
        const level = p < k ? Math.max(0, Math.min(15, Math.round(w[p * n + j] / scale) + 8)) : 8;
        packed[(j * blocks + b) * (BLOCK / 2) + (t >> 1)] |= level << (4 * (t & 1));
      }
    }
  }
  return onnxGraph([{
    opType: 'MatMulNBits', domain: 'com.microsoft', attributes: { K: k, N: n, bits: 4, block_size: BLOCK },
    inputs: ['A', 'B', 'scales'], outputs: ['C'],
  }], [
    { name: 'B', type: DataType.uint8, dims: [n, blocks, BLOCK / 2], data: packed },
    { name: 'scales', type: DataType.float, dims: [n * blocks], data: scales },
  ], [m, k], [m, n]);
}
