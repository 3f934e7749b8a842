// ml-matrix 6.15: a popular pure-JS matrix library, float64 arrays of rows, a plain triple-loop mmul.
import { Matrix } from 'ml-matrix';
import type { Peer } from './types.js';

/** The call returns C as a Matrix; typed () => void since timing ignores it (see Peer). */
type Call = () => void;

export function createMlMatrix(): Peer {
  return {
    name: 'ml-matrix',
    matmul(a, b, m, k, n): Call {
      const ma = Matrix.from1DArray(m, k, a), mb = Matrix.from1DArray(k, n, b);
      return () => ma.mmul(mb);
    },
    // ml-matrix has no A·Bᵀ product for two different matrices (mmulByTranspose is A·Aᵀ only), so a user
    // writes .transpose().mmul(): the transpose copy is inside the timed call on purpose.
    matmulTransB(a, b, m, k, n): Call {
      const ma = Matrix.from1DArray(m, k, a), mb = Matrix.from1DArray(n, k, b);
      return () => ma.mmul(mb.transpose());
    },
    // Likewise Aᵀ·B as a user would write it, transpose included. (6.15 also has
    // a.transposeMultiply(b), a row-streaming Aᵀ·B; it is not what most code calls.)
    matmulTransA(a, b, m, k, n): Call {
      const ma = Matrix.from1DArray(k, m, a), mb = Matrix.from1DArray(k, n, b);
      return () => ma.transpose().mmul(mb);
    },
    dispose() {}, // plain JS arrays: nothing to free
  };
}
