// simd-linear below its public API: each build (plain SIMD and relaxed SIMD) instantiated
// side by side in this process, so both are timed on the same shapes under the same noise.
// Operands live in the build's own heap, filled once; the timed call is the bare gemm.
import { defaultWasmUrl, compileKernels, hasRelaxedSimd, Runtime, type Kernels } from '../dist/internal.js';
import type { Build } from './peak.js';
import type { Operands } from './operands.js';
import type { Product } from './shapes.js';
import type { Call } from './timing.js';

export interface KernelBuild { build: Build; rt: Runtime }

/**
 * Both builds, or the plain one and why the relaxed one is missing. No ABI check here: run.ts
 * calls init() first, which refuses a .wasm from another build of the wrapper.
 */
export async function loadKernelBuilds(): Promise<{ builds: KernelBuild[]; note?: string }> {
  const load = (build: Build) => loadKernelBuild(build, defaultWasmUrl(build));
  if (!hasRelaxedSimd()) {
    return {
      builds: [await load('fixed')],
      note: 'relaxed build skipped: this runtime does not validate relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd)',
    };
  }
  return { builds: [await load('fixed'), await load('relaxed')] };
}

/** One build, from `url`, in a memory of its own. */
export async function loadKernelBuild(build: Build, url: URL): Promise<KernelBuild> {
  const module = await compileKernels(url);
  const memory = new WebAssembly.Memory({ initial: 1 });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  return { build, rt: new Runtime(instance.exports as unknown as Kernels, memory) };
}

/** Copies the operands into the build's heap; `call` gives the gemm of a product, `dispose` frees them. */
export function kernelCalls({ rt }: KernelBuild, { shape, x, w, bias, dy }: Operands) {
  const { batch: m, inFeatures: k, outFeatures: n } = shape;
  const blocks: number[] = [];
  const place = (data: Float32Array | number) => {
    const length = typeof data === 'number' ? data : data.length;
    const at = rt.heap.alloc(length * 4);
    blocks.push(at);
    if (typeof data !== 'number') rt.heap.f32(at, length).set(data); // a fresh view: alloc may have grown memory
    return at;
  };
  const [px, pw, pb, pdy] = [place(x), place(w), place(bias), place(dy)];
  const [py, pdx, pdw] = [place(m * n), place(m * k), place(k * n)];
  // Strides in floats; transposes are read through swapped strides, as Linear does (see src/runtime.ts).
  const calls: Record<Product['pass'], Call> = {
    forward: () => rt.gemm(m, n, k, px, k, 1, pw, n, 1, py, n, false, pb), // Y = X·W + b
    dX: () => rt.gemm(m, k, n, pdy, n, 1, pw, 1, n, pdx, k, false), // dX = dY·Wᵀ
    dW: () => rt.gemm(k, n, m, px, 1, k, pdy, n, 1, pdw, n, true), // dW += Xᵀ·dY
  };
  return {
    call: (product: Product): Call => calls[product.pass],
    addresses: { x: px, w: pw, bias: pb, y: py },
    dispose: () => blocks.forEach((at) => rt.heap.release(at)),
  };
}

/**
 * The forward product on W packed once, outside the timed calls (what Linear.freeze()
 * does, and what tfjs does for a B tensor it has seen): gemmPackedB.
 */
export function packedForward(kb: KernelBuild, operands: Operands) {
  const { rt } = kb;
  const { batch: m, inFeatures: k, outFeatures: n } = operands.shape;
  const { addresses: { x, w, bias, y }, dispose } = kernelCalls(kb, operands);
  const packed = rt.heap.alloc(rt.packedBBytes(k, n));
  rt.packB(k, n, w, n, 1, packed);
  return {
    call: (): Call => () => rt.gemmPackedB(m, n, k, x, k, 1, packed, y, n, false, bias),
    dispose: () => { rt.heap.release(packed); dispose(); },
  };
}
