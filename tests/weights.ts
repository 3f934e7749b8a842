// W as the frozen kernels use it, for the references of the tests of frozen layers and adapters.
import type { WeightsFormat } from '../dist/index.js';

const f32 = Math.fround;

/** W as the frozen kernels use it, in float32: bf16 rounded to nearest-even, int8 as q·s_j. */
export function effectiveWeights(w: Float32Array, din: number, dout: number, format: WeightsFormat): Float32Array {
  if (format === 'f32') return w.slice();
  if (format === 'bf16') {
    const bits = new Uint32Array(w.slice().buffer);
    return new Float32Array(bits.map((b) => (((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) << 16) >>> 0).buffer);
  }
  const out = new Float32Array(din * dout);
  for (let j = 0; j < dout; j++) {
    let largest = 0;
    for (let p = 0; p < din; p++) largest = Math.max(largest, Math.abs(w[p * dout + j]));
    const s = f32(largest / 127);
    for (let p = 0; p < din; p++) {
      const v = f32(w[p * dout + j] / s);
      let q = Math.round(v);
      if (q - v === 0.5 && q % 2 !== 0) q -= 1;
      out[p * dout + j] = f32((Number.isNaN(q) ? 0 : Math.max(-127, Math.min(127, q))) * s);
    }
  }
  return out;
}

