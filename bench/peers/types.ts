/**
 * One matrix-product library under test. Each method prepares operands once (outside timing) and returns a
 * function doing one call, synchronously, whose result is fully computed when it returns (e.g. dataSync).
 * Peers whose API is asynchronous (onnxruntime-web's `session.run`) return a function giving a promise;
 * tinybench awaits it. Calls may also return C (row-major m×n, or the library's own matrix) so smoke.ts can
 * check it: a `() => C` is a valid `() => void`, and an async call's promise is typed Promise<unknown> for
 * the same reason. Timing code ignores the value.
 */
export interface Peer {
  name: string;
  /** C (m×n) = A (m×k, row-major) · B (k×n, row-major) */
  matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): () => void | Promise<unknown>;
  /** C = A·Bᵀ where b is stored n×k row-major (the dX = dY·Wᵀ product): use the library's own transposed product */
  matmulTransB(a: Float32Array, b: Float32Array, m: number, k: number, n: number): () => void | Promise<unknown>;
  /** C = Aᵀ·B where a is stored k×m row-major (the dW = Xᵀ·dY product): use the library's own transposed product */
  matmulTransA(a: Float32Array, b: Float32Array, m: number, k: number, n: number): () => void | Promise<unknown>;
  dispose(): void;
}
