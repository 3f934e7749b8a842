// ONNX's backend test cases (tests/fixtures/onnx, Apache-2.0, copied from the onnx repository):
// each model run node by node with this package's layers and matmul, against the outputs ONNX
// ships with it.
import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, expect, test } from 'vitest';
import { ELU, init, LeakyReLU, matmul, ReLU, Sigmoid, Softplus, Tanh } from '../dist/index.js';
import { model, tensor, type Node, type Tensor } from './onnx.js';
import { initOptions } from './support.js';

beforeAll(() => init(initOptions));

const root = new URL('./fixtures/onnx/', import.meta.url);
const cases = readdirSync(root).filter((name) => name.startsWith('test_'));
const read = (path: string) => new Uint8Array(readFileSync(new URL(path, root)));

const elementwise: Record<string, (node: Node) => { forward(x: Float32Array, batch: number): Float32Array; dispose(): void }> = {
  Relu: () => new ReLU(), Sigmoid: () => new Sigmoid(), Tanh: () => new Tanh(), Softplus: () => new Softplus(),
  Elu: (node) => new ELU({ alpha: node.attributes.alpha ?? 1 }),
  LeakyRelu: (node) => new LeakyReLU({ negativeSlope: node.attributes.alpha ?? 0.01 }),
};

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

test.each(cases)('%s', (name) => {
  const { nodes, initializers, inputs, outputs } = model(read(`${name}/model.onnx`));
  const values = new Map<string, Tensor>(initializers.map((t) => [t.name, t]));
  const given = inputs.filter((input) => !values.has(input));
  given.forEach((input, i) => values.set(input, tensor(read(`${name}/test_data_set_0/input_${i}.pb`))));
  for (const node of nodes) {
    const result = run(node, node.inputs.map((input) => values.get(input)!));
    values.set(node.outputs[0]!, result);
  }
  outputs.forEach((output, i) => {
    const want = tensor(read(`${name}/test_data_set_0/output_${i}.pb`));
    const got = values.get(output)!;
    expect(got.data.length).toBe(want.data.length);
    // ONNX's own runner compares with rtol 1e-3, atol 1e-7; these hold far tighter.
    got.data.forEach((v, j) => expect(Math.abs(v - want.data[j]!), `${name}[${j}]`).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(want.data[j]!)));
  });
});

test('all eleven cases ran', () => {
  expect(cases).toHaveLength(11);
});
