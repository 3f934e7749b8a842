// ONNX's backend test cases, each model run node by node with this package's layers, matmul and
// loss, against the outputs ONNX gives with it: tests/fixtures/onnx (copied from the onnx
// repository's pytorch-converted and pytorch-operator data) and tests/fixtures/onnx-node (its
// node tests for the operators this package has, written by onnx's own generator: generate.py
// there). Apache-2.0, the license beside them.
import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, expect, test } from 'vitest';
import { ELU, GELU, init, LeakyReLU, matmul, ReLU, Sigmoid, softmaxCrossEntropy, Softplus, Tanh } from '../dist/index.js';
import { model, tensor, type Node, type Tensor } from './onnx.js';
import { initOptions } from './support.js';

beforeAll(() => init(initOptions));

const roots = ['onnx', 'onnx-node'].map((folder) => new URL(`./fixtures/${folder}/`, import.meta.url));
const cases = roots.flatMap((root) => readdirSync(root).filter((name) => name.startsWith('test_')).map((name) => new URL(`${name}/`, root)));
const read = (path: string, folder: URL) => new Uint8Array(readFileSync(new URL(path, folder)));
const caseName = (folder: URL) => folder.pathname.split('/').at(-2)!;

const elementwise: Record<string, (node: Node) => { forward(x: Float32Array, batch: number): Float32Array; dispose(): void }> = {
  Relu: () => new ReLU(), Sigmoid: () => new Sigmoid(), Tanh: () => new Tanh(), Softplus: () => new Softplus(),
  Elu: (node) => new ELU({ alpha: node.attributes.alpha ?? 1 }),
  LeakyRelu: (node) => new LeakyReLU({ negativeSlope: node.attributes.alpha ?? 0.01 }),
  Gelu: (node) => new GELU({ approximate: node.strings.approximate === 'tanh' ? 'tanh' : 'none' }),
};

/**
 * ONNX's SoftmaxCrossEntropyLoss with the mean reduction: scores N×C×d₁…, class C on axis 1,
 * each (n, d₁…) a row of C logits for softmaxCrossEntropy, with its weights and ignore_index.
 */
function crossEntropy(node: Node, [scores, labels, weights]: Tensor[]): Tensor {
  if ((node.strings.reduction ?? 'mean') !== 'mean') throw new Error(`reduction ${node.strings.reduction} is not run here`);
  const [n, c] = scores!.dims as [number, number];
  const spatial = scores!.data.length / (n * c);
  const rows = new Float32Array(scores!.data.length);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c; j++) for (let s = 0; s < spatial; s++) rows[(i * spatial + s) * c + j] = scores!.data[(i * c + j) * spatial + s]!;
  }
  const options = {
    ...(weights && { weight: weights.data }),
    ...(node.attributes.ignore_index !== undefined && { ignoreIndex: node.attributes.ignore_index }),
  };
  const { loss } = softmaxCrossEntropy(rows, labels!.ints!, c, options);
  return { name: '', dims: [], data: Float32Array.of(loss) };
}

/** ONNX's Gemm: Y = alpha·op(A)·op(B) + beta·C, C broadcast to M×N (unidirectionally), through matmul's alpha and beta. */
function gemm(node: Node, [a, b, c]: Tensor[]): Tensor {
  const { alpha = 1, beta = 1, transA = 0, transB = 0 } = node.attributes;
  const [m, k] = transA ? [a!.dims[1]!, a!.dims[0]!] : [a!.dims[0]!, a!.dims[1]!];
  const n = transB ? b!.dims[0]! : b!.dims[1]!;
  const out = new Float32Array(m * n);
  if (c && beta !== 0) for (let i = 0; i < m * n; i++) out[i] = c.data.length === 1 ? c.data[0]! : c.data.length === n ? c.data[i % n]! : c.data[i]!;
  matmul(a!.data, b!.data, m, k, n, { transposeA: !!transA, transposeB: !!transB, alpha, beta: c ? beta : 0, out });
  return { name: '', dims: [m, n], data: out };
}

function run(node: Node, inputs: Tensor[]): Tensor {
  const [x] = inputs;
  if (node.opType in elementwise) {
    const layer = elementwise[node.opType]!(node);
    try {
      return { name: '', dims: x!.dims, data: layer.forward(x!.data, 1) };
    } finally {
      layer.dispose();
    }
  }
  if (node.opType === 'Gemm') return gemm(node, inputs);
  if (node.opType === 'SoftmaxCrossEntropyLoss') return crossEntropy(node, inputs);
  if (node.opType === 'MatMul') return gemm({ ...node, attributes: {} }, inputs.slice(0, 2));
  if (node.opType === 'Transpose') {
    const [rows, cols] = x!.dims as [number, number];
    const data = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[c * rows + r] = x!.data[r * cols + c]!;
    return { name: '', dims: [cols, rows], data };
  }
  if (node.opType === 'Constant') return node.tensors.value!;
  throw new Error(`no ${node.opType} here`);
}

test.each(cases.map((folder) => [caseName(folder), folder] as const))('%s', (name, folder) => {
  const { nodes, initializers, inputs, outputs } = model(read('model.onnx', folder));
  const values = new Map<string, Tensor>(initializers.map((t) => [t.name, t]));
  const given = inputs.filter((input) => !values.has(input));
  given.forEach((input, i) => values.set(input, tensor(read(`test_data_set_0/input_${i}.pb`, folder))));
  for (const node of nodes) {
    const result = run(node, node.inputs.map((input) => values.get(input)!));
    values.set(node.outputs[0]!, result);
  }
  outputs.forEach((output, i) => {
    const want = tensor(read(`test_data_set_0/output_${i}.pb`, folder));
    const got = values.get(output)!;
    expect(got.data.length).toBe(want.data.length);
    // ONNX's own runner compares with rtol 1e-3, atol 1e-7; these hold far tighter.
    got.data.forEach((v, j) => expect(Math.abs(v - want.data[j]!), `${name}[${j}]`).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(want.data[j]!)));
  });
});

test('every case ran: 11 pytorch-converted and pytorch-operator, 40 node tests', () => {
  expect(cases.map(caseName).filter((name) => readdirSync(roots[0]!).includes(name))).toHaveLength(11);
  expect(cases).toHaveLength(51);
});
