// A minimal protobuf writer for the few ONNX messages a one-node model needs, so the benchmark
// builds its models in memory instead of depending on the onnx package or on model files.
// Field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto, ValueInfoProto, TensorProto).

const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTRIBUTE_INT = 2; // AttributeProto.AttributeType.INT

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Base-128 varint of a non-negative integer (division, not bit ops, so values above 2³¹ survive). */
function varint(value: number): Uint8Array {
  const bytes: number[] = [];
  for (; value >= 0x80; value = Math.floor(value / 0x80)) bytes.push((value % 0x80) | 0x80);
  bytes.push(value);
  return Uint8Array.from(bytes);
}

const key = (field: number, wireType: 0 | 2) => varint(field * 8 + wireType);
const int = (field: number, value: number) => concat([key(field, 0), varint(value)]);
const bytes = (field: number, data: Uint8Array) => concat([key(field, 2), varint(data.length), data]);
const str = (field: number, text: string) => bytes(field, new TextEncoder().encode(text));
const message = (field: number, ...parts: Uint8Array[]) => bytes(field, concat(parts));

/** ValueInfoProto of a float tensor: name, then TypeProto.tensor_type with elem_type and a fixed shape. */
const valueInfo = (field: number, name: string, dims: number[]) =>
  message(field, str(1, name), message(2, message(1, int(1, FLOAT), message(2, ...dims.map((d) => message(1, int(1, d)))))));

export interface OnnxNode {
  opType: string;
  /** Integer attributes, e.g. { transA: 1 } for Gemm. */
  attributes?: Record<string, number>;
}

/** TensorProto.DataType of the initializers used here. */
export const DataType = { float: 1, uint8: 2, int8: 3 } as const;

/** A constant of the graph (a weight, a scale, a zero point). */
export interface Initializer {
  name: string;
  type: number;
  dims: number[];
  data: ArrayBufferView;
}

/** One node: its inputs and outputs by name, and its operator's domain ('' the default, 'com.microsoft' ORT's contrib ops). */
export interface GraphNode extends OnnxNode {
  inputs: string[];
  outputs: string[];
  domain?: string;
}

/**
 * A model of `nodes` with one float input A and one float output C, weights as
 * initializers (as in a deployed model). ir_version 8, default-domain opset 13, and
 * com.microsoft 1 when a node uses it.
 */
export function onnxGraph(nodes: GraphNode[], initializers: Initializer[], aDims: number[], cDims: number[]): Uint8Array {
  // raw_data is little-endian, like the typed arrays on every platform Node runs on.
  const tensors = initializers.map(({ name, type, dims, data }) =>
    message(5, ...dims.map((d) => int(1, d)), int(2, type), str(8, name), bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength))));
  const nodeProtos = nodes.map((node, i) => message(1,
    ...node.inputs.map((name) => str(1, name)), ...node.outputs.map((name) => str(2, name)), str(3, `node${i}`), str(4, node.opType),
    ...Object.entries(node.attributes ?? {}).map(([name, value]) => message(5, str(1, name), int(3, value), int(20, ATTRIBUTE_INT))),
    ...(node.domain ? [str(7, node.domain)] : [])));
  const graph = message(7, ...nodeProtos, str(2, 'product'), ...tensors, valueInfo(11, 'A', aDims), valueInfo(12, 'C', cDims));
  const opsets = [message(8, int(2, 13)), ...(nodes.some((n) => n.domain === 'com.microsoft') ? [message(8, str(1, 'com.microsoft'), int(2, 1))] : [])];
  return concat([int(1, 8), str(2, 'simd-linear bench'), graph, ...opsets]);
}

/**
 * A model computing C = op(A, B) with A a graph input and B an initializer holding `b`
 * (a weight, as in a real model).
 */
export function onnxModel(node: OnnxNode, aDims: number[], b: Float32Array, bDims: number[], cDims: number[]): Uint8Array {
  return onnxGraph([{ ...node, inputs: ['A', 'B'], outputs: ['C'] }], [{ name: 'B', type: DataType.float, dims: bDims, data: b }], aDims, cDims);
}
