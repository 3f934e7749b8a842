// Plain float64 references for the training pieces: activations, losses, optimizer steps.

/** erf to ~1e-15: its Taylor series below 3, a continued fraction for erfc above. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let sum = 0, term = ax;
    for (let n = 0; n < 200 && Math.abs(term) > 1e-18; n++) {
      sum += term / (2 * n + 1);
      term *= (-ax * ax) / (n + 1);
    }
    return (Math.sign(x) * 2 * sum) / Math.sqrt(Math.PI);
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f));
}

export const activations = {
  relu: { f: (z: number) => Math.max(z, 0), df: (z: number) => (z > 0 ? 1 : 0) },
  leakyRelu: { f: (z: number) => (z > 0 ? z : 0.01 * z), df: (z: number) => (z > 0 ? 1 : 0.01) },
  gelu: {
    f: (z: number) => 0.5 * z * (1 + erf(z / Math.SQRT2)),
    df: (z: number) => 0.5 * (1 + erf(z / Math.SQRT2)) + (z * Math.exp(-0.5 * z * z)) / Math.sqrt(2 * Math.PI),
  },
  tanh: { f: Math.tanh, df: (z: number) => 1 - Math.tanh(z) ** 2 },
  sigmoid: { f: (z: number) => 1 / (1 + Math.exp(-z)), df: (z: number) => Math.exp(-z) / (1 + Math.exp(-z)) ** 2 },
  // PyTorch's definitions (torch.nn docs), with the fused parameters: ELU alpha 1, Softplus beta 1, threshold 20.
  silu: { f: (z: number) => z / (1 + Math.exp(-z)), df: (z: number) => { const s = 1 / (1 + Math.exp(-z)); return s * (1 + z * (1 - s)); } },
  // ½z·(1 + tanh u) written as z·σ(2u): the same function, without float64's own cancellation where tanh u nears −1.
  geluTanh: {
    f: (z: number) => z / (1 + Math.exp(-2 * Math.sqrt(2 / Math.PI) * (z + 0.044715 * z ** 3))),
    df: (z: number) => {
      const s = 1 / (1 + Math.exp(-2 * Math.sqrt(2 / Math.PI) * (z + 0.044715 * z ** 3)));
      return s + z * s * (1 - s) * 2 * Math.sqrt(2 / Math.PI) * (1 + 3 * 0.044715 * z * z);
    },
  },
  elu: { f: (z: number) => (z > 0 ? z : Math.expm1(z)), df: (z: number) => (z > 0 ? 1 : Math.exp(z)) },
  relu6: { f: (z: number) => Math.min(Math.max(z, 0), 6), df: (z: number) => (z > 0 && z < 6 ? 1 : 0) },
  softplus: {
    f: (z: number) => (z > 20 ? z : Math.log1p(Math.exp(z))),
    df: (z: number) => (z > 20 ? 1 : 1 / (1 + Math.exp(-z))),
  },
};

/** Mean cross-entropy of softmax(logits) and its gradient, in float64. */
export function crossEntropy(logits: ArrayLike<number>, labels: ArrayLike<number>, classes: number) {
  const batch = labels.length;
  const grad = new Float64Array(batch * classes);
  let loss = 0;
  for (let i = 0; i < batch; i++) {
    const row = Array.from({ length: classes }, (_, j) => logits[i * classes + j]);
    const max = Math.max(...row);
    const sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
    loss += Math.log(sum) + max - row[labels[i]];
    row.forEach((v, j) => { grad[i * classes + j] = (Math.exp(v - max) / sum - (j === labels[i] ? 1 : 0)) / batch; });
  }
  return { loss: loss / batch, grad };
}

/** PyTorch's SGD, one tensor, `steps` steps with the same gradient function. */
export function sgdSteps(
  p0: Float32Array, grads: (p: Float64Array, step: number) => ArrayLike<number>, steps: number,
  { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false }: { lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean },
): Float64Array {
  const p = Float64Array.from(p0);
  let buf: Float64Array | null = null;
  for (let t = 0; t < steps; t++) {
    const g = grads(p, t);
    const d = Float64Array.from(p, (v, i) => g[i] + weightDecay * v);
    if (momentum !== 0) {
      buf = buf ? buf.map((b, i) => momentum * b + (1 - dampening) * d[i]) : d.slice();
      for (let i = 0; i < d.length; i++) d[i] = nesterov ? d[i] + momentum * buf[i] : buf[i];
    }
    for (let i = 0; i < p.length; i++) p[i] -= lr * d[i];
  }
  return p;
}

/** PyTorch's AdamW, one tensor, `steps` steps. */
export function adamwSteps(
  p0: Float32Array, grads: (p: Float64Array, step: number) => ArrayLike<number>, steps: number,
  { lr, betas: [b1, b2], eps, weightDecay }: { lr: number; betas: [number, number]; eps: number; weightDecay: number },
): Float64Array {
  const p = Float64Array.from(p0);
  const m = new Float64Array(p.length), v = new Float64Array(p.length);
  for (let t = 1; t <= steps; t++) {
    const g = grads(p, t - 1);
    for (let i = 0; i < p.length; i++) {
      p[i] *= 1 - lr * weightDecay;
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      p[i] -= ((lr / (1 - b1 ** t)) * m[i]) / (Math.sqrt(v[i]) / Math.sqrt(1 - b2 ** t) + eps);
    }
  }
  return p;
}
