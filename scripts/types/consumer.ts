// A consumer of every public entry, type-checked under strict settings (scripts/types/run.mjs):
// what a user's editor and tsc see of the package.
import { init, Linear, matmul, Sequential, ReLU, softmaxCrossEntropy, AdamW, allocate, backendInfo, type InitOptions } from 'simd-linear';
import * as inline from 'simd-linear/inline';
import * as reference from 'simd-linear/reference';

const options: InitOptions = { simd: 'auto', threads: 2, wasm: new URL('https://example.com/simd-linear.wasm'), worker: '/worker.js' };
await init(options);
await inline.init();
const layer = new Linear(4, 3, { seed: 1, activation: 'relu' });
const y: Float32Array = layer.forward(new Float32Array(8), 2);
const dx: Float32Array = layer.backward(new Float32Array(6));
const model = new Sequential([layer, new ReLU()]);
const { loss, grad } = softmaxCrossEntropy(model.forward(new Float32Array(8), 2), Int32Array.of(0, 1), 3);
new AdamW(model.parameters(), { lr: 1e-3 }).step();
const c: Float32Array = matmul(new Float32Array(6), new Float32Array(6), 2, 3, 2, { transposeB: false });
const resident = allocate(16);
resident.current[0] = 1;
const simd: 'fixed' | 'relaxed' = backendInfo().simd;
const r: Float64Array = reference.referenceMatmul(new Float32Array(1), new Float32Array(1), 1, 1, 1);
// `using` needs the consumer's own esnext.disposable library; the symbol needs only ours.
new Linear(2, 2)[Symbol.dispose]();
resident.dispose();
export { y, dx, loss, grad, c, simd, r };
