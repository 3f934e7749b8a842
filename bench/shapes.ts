// What the suite measures: Linear-layer shapes from real models, grouped in named sets
// (`--set <name>`), and the three products each layer shape stands for.

/** A Linear layer's shape: batch rows of inFeatures in, outFeatures out (M = batch, K = d_in, N = d_out). */
export interface Shape {
  name: string;
  batch: number;
  inFeatures: number;
  outFeatures: number;
}

const shape = (name: string, batch: number, inFeatures: number, outFeatures: number): Shape =>
  ({ name, batch, inFeatures, outFeatures });

/** Shapes from real models, by set. 'all' runs them in this order (but separateSets), each shape under the first set naming it. */
export const shapeSets: Record<string, Shape[]> = {
  // The 784-128-10 MNIST classifier, at the batch sizes people train it with.
  mlp: [
    shape('MNIST MLP hidden', 32, 784, 128),
    shape('MNIST MLP hidden, batch 64', 64, 784, 128),
    shape('MNIST MLP output, batch 64', 64, 128, 10),
  ],
  // Transformer feed-forward blocks: BERT-base / GPT-2 small (768 ↔ 3072) over 128 tokens, a 512-wide model.
  ffn: [
    shape('BERT-base FFN up', 128, 768, 3072),
    shape('BERT-base FFN down', 128, 3072, 768),
    shape('512-wide FFN up', 64, 512, 2048),
  ],
  wide: [
    shape('mid-size layer', 64, 512, 512),
    shape('odd sizes (word vectors 300 → 77)', 100, 300, 77),
    shape('wide layer, batch 256', 256, 1024, 1024),
    shape('LLM-style projection 4096 → 1024', 128, 4096, 1024),
    shape('square 1024³', 1024, 1024, 1024),
  ],
  // Inference one sample at a time: bound by streaming W from memory, not by arithmetic.
  batch1: [
    shape('batch-1 wide layer', 1, 1024, 1024),
    shape('batch-1 MNIST hidden', 1, 784, 128),
    shape('batch-1 LLM-size projection 4096 → 4096', 1, 4096, 4096),
  ],
  // Inference and fine-tuning a few samples or tokens at a time: batches 1–16 over the widths of
  // real models, powers of two and one odd width. Up to batch 8 or so the product is bound by
  // reading W once (bench/microkernels.md), so these show whether W is streamed once, in place.
  smallbatch: [1, 2, 3, 4, 8, 16].flatMap((batch) => [
    shape(`batch ${batch}, 512 → 512`, batch, 512, 512),
    shape(`batch ${batch}, 1024 → 1024`, batch, 1024, 1024),
    shape(`batch ${batch}, 4096 → 1024`, batch, 4096, 1024),
    shape(`batch ${batch}, 1024 → 4096`, batch, 1024, 4096),
    shape(`batch ${batch}, MNIST hidden 784 → 128`, batch, 784, 128),
    shape(`batch ${batch}, BERT FFN up 768 → 3072`, batch, 768, 3072),
    shape(`batch ${batch}, odd width 1000 → 1000`, batch, 1000, 1000),
  ]),
  // Small enough that the fixed cost of a call (copies, dispatch, JS ↔ wasm) is all there is.
  overhead: [
    shape('per-call overhead', 1, 64, 64),
  ],
  // Three representative shapes for a quick look; all are in mlp and wide, so 'all' adds nothing from here.
  core: [
    shape('MNIST MLP hidden', 32, 784, 128),
    shape('mid-size layer', 64, 512, 512),
    shape('wide layer, batch 256', 256, 1024, 1024),
  ],
};

/**
 * Sets that 'all' leaves out, run by name: smallbatch's 42 shapes would triple a full run
 * (`npm run bench -- --set smallbatch --skip ml-matrix,JS`; results in bench/results/smallbatch/).
 */
export const separateSets = new Set(['smallbatch']);

/** Sets reported in µs per call (forward only) rather than GFLOP/s. */
export const latencySets = new Set(['overhead']);

/** A shape as the suite runs it, with the first set (in `shapeSets` order) that named it. */
export interface Entry { set: string; shape: Shape }

/** The shapes of one set, or of all sets ('all') with each shape once. */
export function selectShapes(set: string): Entry[] {
  const names = set === 'all' ? Object.keys(shapeSets).filter((name) => !separateSets.has(name)) : [set];
  const unknown = names.filter((name) => !(name in shapeSets));
  if (unknown.length) throw new Error(`unknown shape set ${unknown.join(', ')}: choose all, ${Object.keys(shapeSets).join(', ')}`);
  const seen = new Set<string>();
  return names.flatMap((name) => shapeSets[name].flatMap((s) => {
    if (seen.has(label(s))) return [];
    seen.add(label(s));
    return [{ set: name, shape: s }];
  }));
}

/** Floating-point operations of one product of the layer: 2·B·d_in·d_out. */
export const productFlops = ({ batch, inFeatures, outFeatures }: Shape): number => 2 * batch * inFeatures * outFeatures;

export const label = ({ batch, inFeatures, outFeatures }: Shape): string => `${batch}×${inFeatures}×${outFeatures}`;

/** The three products of a layer's training step; all cost productFlops(shape). */
export type PassName = 'forward' | 'dX' | 'dW';

/** One product C (m×n) = op(A) (m×k) · op(B) (k×n) in a shape's terms. */
export interface Product { pass: PassName; m: number; k: number; n: number }

export function products({ batch, inFeatures, outFeatures }: Shape): Product[] {
  return [
    { pass: 'forward', m: batch, k: inFeatures, n: outFeatures }, // Y = X·W
    { pass: 'dX', m: batch, k: outFeatures, n: inFeatures }, // dX = dY·Wᵀ
    { pass: 'dW', m: inFeatures, k: batch, n: outFeatures }, // dW = Xᵀ·dY
  ];
}

/** The MLP whose full training step is timed (layer sizes, batch): the 784-128-10 classifier. */
export const trainingMlp = { sizes: [784, 128, 10], batch: 64 } as const;
