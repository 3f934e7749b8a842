// Just enough of ONNX's protobuf to run the backend test fixtures (tests/fixtures/onnx): a model's
// nodes, attributes and float initializers, and TensorProto inputs and outputs. Field numbers are
// onnx.proto's.

/** The fields of one protobuf message: for each number, its values (varints as numbers, the rest as bytes). */
function fields(bytes: Uint8Array): Map<number, (number | Uint8Array)[]> {
  const out = new Map<number, (number | Uint8Array)[]>();
  let at = 0;
  const varint = () => {
    let value = 0n, shift = 0n, byte: number;
    do { byte = bytes[at++]!; value |= BigInt(byte & 0x7f) << shift; shift += 7n; } while (byte & 0x80);
    return asInt64(value);
  };
  while (at < bytes.length) {
    const key = varint(), field = Math.floor(key / 8), wire = key % 8;
    let value: number | Uint8Array;
    if (wire === 0) value = varint();
    else if (wire === 2) { const length = varint(); value = bytes.subarray(at, at + length); at += length; }
    else if (wire === 5) { value = bytes.subarray(at, at + 4); at += 4; }
    else if (wire === 1) { value = bytes.subarray(at, at + 8); at += 8; }
    else throw new Error(`onnx: wire type ${wire} is not read here`);
    if (!out.has(field)) out.set(field, []);
    out.get(field)!.push(value);
  }
  return out;
}

const text = (b: number | Uint8Array) => new TextDecoder().decode(b as Uint8Array);
const float32 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);

/** A tensor: float32 values in `data`, or int64 ones (class labels, small) in `ints` with `data` empty. */
export interface Tensor { name: string; dims: number[]; data: Float32Array; ints?: Int32Array }

/**
 * A float or int64 TensorProto: dims (1), data_type (2: 1 float, 7 int64), float_data (4),
 * int64_data (7) or raw_data (9, little-endian), name (8).
 */
export function tensor(bytes: Uint8Array): Tensor {
  const f = fields(bytes);
  const dims = (f.get(1) ?? []).flatMap((d) => (typeof d === 'number' ? [d] : packedVarints(d)));
  const name = f.get(8) ? text(f.get(8)![0]!) : '';
  const type = f.get(2)?.[0] ?? 1;
  const raw = f.get(9)?.[0] as Uint8Array | undefined;
  if (type === 7) {
    const view = raw && new DataView(raw.buffer, raw.byteOffset, raw.length);
    const values = view
      ? Array.from({ length: raw.length / 8 }, (_, i) => Number(view.getBigInt64(8 * i, true)))
      : (f.get(7) ?? []).flatMap((v) => (typeof v === 'number' ? [v] : packedVarints(v)));
    return { name, dims, data: new Float32Array(0), ints: Int32Array.from(values) };
  }
  if (type !== 1) throw new Error(`onnx: tensors of data_type ${String(type)} are not read here`);
  const packed = f.get(4)?.[0] as Uint8Array | undefined;
  const source = raw ?? packed ?? new Uint8Array(0);
  const data = new Float32Array(source.length / 4);
  for (let i = 0; i < data.length; i++) data[i] = float32(source.subarray(4 * i));
  return { name, dims, data };
}

function packedVarints(bytes: Uint8Array): number[] {
  const values: number[] = [];
  let value = 0n, shift = 0n;
  for (const byte of bytes) {
    value |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
    if (!(byte & 0x80)) { values.push(asInt64(value)); value = 0n; shift = 0n; }
  }
  return values;
}

/** A varint as the int64 it encodes (negative ones take ten bytes, two's complement). */
const asInt64 = (value: bigint) => Number(BigInt.asIntN(64, value));

export interface Node {
  opType: string; inputs: string[]; outputs: string[];
  attributes: Record<string, number>; strings: Record<string, string>; tensors: Record<string, Tensor>;
}

/**
 * ModelProto.graph (7): nodes (1: input 1, output 2, op_type 4, attribute 5: name 1, f 2, i 3, s 4, t 5),
 * initializers (5), the names of the graph's inputs (11) and outputs (12) (ValueInfoProto.name, 1).
 */
export function model(bytes: Uint8Array): { nodes: Node[]; initializers: Tensor[]; inputs: string[]; outputs: string[] } {
  const graph = fields(fields(bytes).get(7)![0] as Uint8Array);
  const nodes = (graph.get(1) ?? []).map((b) => {
    const n = fields(b as Uint8Array);
    const attributes: Record<string, number> = {}, strings: Record<string, string> = {}, tensors: Record<string, Tensor> = {};
    for (const a of n.get(5) ?? []) {
      const af = fields(a as Uint8Array);
      const name = text(af.get(1)![0]!);
      if (af.has(5)) tensors[name] = tensor(af.get(5)![0] as Uint8Array); // t: a tensor (Constant's value)
      else if (af.has(4)) strings[name] = text(af.get(4)![0]!);
      else attributes[name] = af.has(2) ? float32(af.get(2)![0] as Uint8Array) : (af.get(3)?.[0] as number);
    }
    return { opType: text(n.get(4)![0]!), inputs: (n.get(1) ?? []).map(text), outputs: (n.get(2) ?? []).map(text), attributes, strings, tensors };
  });
  const names = (field: number) => (graph.get(field) ?? []).map((b) => text(fields(b as Uint8Array).get(1)![0]!));
  return { nodes, initializers: (graph.get(5) ?? []).map((b) => tensor(b as Uint8Array)), inputs: names(11), outputs: names(12) };
}
