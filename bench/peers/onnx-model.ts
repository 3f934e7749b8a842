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
  opType: 'MatMul' | 'Gemm';
  /** Integer attributes, e.g. { transA: 1 } for Gemm. */
  attributes?: Record<string, number>;
}

/**
 * A model computing C = op(A, B) with A a graph input and B an initializer holding `b`
 * (a weight, as in a real model). ir_version 8, default-domain opset 13.
 */
export function onnxModel(node: OnnxNode, aDims: number[], b: Float32Array, bDims: number[], cDims: number[]): Uint8Array {
  // raw_data is little-endian, like Float32Array on every platform Node runs on.
  const raw = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  const initializer = message(5, ...bDims.map((d) => int(1, d)), int(2, FLOAT), str(8, 'B'), bytes(9, raw));
  const attributes = Object.entries(node.attributes ?? {}).map(([name, value]) =>
    message(5, str(1, name), int(3, value), int(20, ATTRIBUTE_INT)));
  const nodeProto = message(1, str(1, 'A'), str(1, 'B'), str(2, 'C'), str(3, 'product'), str(4, node.opType), ...attributes);
  const graph = message(7, nodeProto, str(2, 'product'), initializer, valueInfo(11, 'A', aDims), valueInfo(12, 'C', cDims));
  return concat([int(1, 8), str(2, 'simd-linear bench'), graph, message(8, int(2, 13))]);
}
