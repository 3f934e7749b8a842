// PyTorch-compatible state dicts and safetensors files for Sequential models. Names
// and layouts are PyTorch's, so a file written by safetensors.torch.save_file for an
// nn.Sequential of nn.Linear loads here, and one written here loads there.
import { checkFloat32Array, describe } from './errors.js';
import type { Parameter } from './layer.js';
import type { Sequential } from './sequential.js';

/** Tensors by PyTorch name, in PyTorch's layout: a Linear weight is out×in, a bias [out]. */
export type StateDict = Record<string, { shape: number[]; data: Float32Array }>;

/** The reference implementation refuses larger headers; so do we, before decoding one. */
const MAX_HEADER_BYTES = 100_000_000;

/** A parameter of the model with the shape PyTorch gives it. */
interface Slot {
  name: string;
  parameter: Parameter;
  shape: number[];
}

/** The dtypes we read, with the float32 bit pattern of element i of their little-endian bytes. */
const DECODERS = new Map<string, { size: number; bits: (bytes: DataView, i: number) => number }>([
  ['F32', { size: 4, bits: (bytes, i) => bytes.getUint32(4 * i, true) }],
  ['F16', { size: 2, bits: (bytes, i) => halfToFloatBits(bytes.getUint16(2 * i, true)) }],
  // bfloat16 is by definition the upper half of a float32.
  ['BF16', { size: 2, bits: (bytes, i) => bytes.getUint16(2 * i, true) << 16 }],
]);

/** A copy of every parameter, named and laid out as PyTorch's `model.state_dict()`. */
export function stateDict(model: Sequential): StateDict {
  const state: StateDict = {};
  for (const { name, parameter, shape } of slotsOf('stateDict', model)) {
    state[name] = { shape, data: transposed(parameter.value, parameter.shape) };
  }
  return state;
}

/**
 * Sets every parameter from `state`, which must hold exactly the model's names with
 * PyTorch's shapes. Everything is checked before anything is written, so on an error
 * the model is unchanged.
 */
export function loadStateDict(model: Sequential, state: StateDict): void {
  const where = 'loadStateDict';
  assign(where, slotsOf(where, model), state);
}

/**
 * The model as a safetensors file: a little-endian u64 header length, the JSON header
 * padded with spaces to a multiple of 8 bytes, then float32 data. Tensors are ordered
 * as the reference writer orders them, so the bytes equal those of
 * `safetensors.torch.save_file(model.state_dict(), path, metadata)`.
 */
export function saveSafetensors(model: Sequential, metadata?: Record<string, string>): Uint8Array {
  const where = 'saveSafetensors';
  const slots = slotsOf(where, model);
  if (metadata !== undefined && !isStringMap(metadata)) {
    throw new TypeError(`${where}: metadata must be an object whose values are strings; got ${describe(metadata)}`);
  }
  // The reference sorts by dtype (all F32 here), then by name; our names are ASCII,
  // so JavaScript's string order is its byte order.
  const tensors = slots
    .map(({ name, parameter, shape }) => ({ name, shape, data: transposed(parameter.value, parameter.shape) }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const header: Record<string, unknown> = metadata === undefined ? {} : { __metadata__: metadata };
  let offset = 0;
  for (const { name, shape, data } of tensors) {
    const end = offset + 4 * data.length;
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, end] };
    offset = end;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Padding keeps the data 8-byte aligned in the file, as the reference writes it.
  const headerLength = Math.ceil(json.length / 8) * 8;
  const file = new Uint8Array(8 + headerLength + offset);
  const bytes = new DataView(file.buffer);
  bytes.setBigUint64(0, BigInt(headerLength), true);
  file.set(json, 8);
  file.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const { data } of tensors) {
    for (const bits of bitsOf(data)) {
      bytes.setUint32(at, bits, true);
      at += 4;
    }
  }
  return file;
}

/**
 * Sets every parameter from a safetensors file holding exactly the model's names with
 * PyTorch's shapes, in F32, F16 or BF16 (converted exactly to float32). The whole file
 * is checked before anything is written, so on an error the model is unchanged.
 */
export function loadSafetensors(model: Sequential, bytes: Uint8Array | ArrayBuffer): void {
  const where = 'loadSafetensors';
  assign(where, slotsOf(where, model), readSafetensors(where, bytes));
}

function slotsOf(where: string, model: Sequential): Slot[] {
  if (typeof (model as Partial<Sequential> | null)?.namedParameters !== 'function') {
    throw new TypeError(`${where}: model must be a Sequential; got ${describe(model)}`);
  }
  return model.namedParameters().map(({ name, parameter }) => {
    // A 2-D parameter is a Linear weight: in×out here, out×in in PyTorch.
    const shape = parameter.shape.length === 2 ? [parameter.shape[1], parameter.shape[0]] : [...parameter.shape];
    return { name, parameter, shape };
  });
}

/** Checks `state` against the model's parameters entirely, then writes them all. */
function assign(where: string, slots: Slot[], state: StateDict): void {
  if (typeof state !== 'object' || state === null) {
    throw new TypeError(`${where}: the state must be an object of { shape, data } by name; got ${describe(state)}`);
  }
  const names = slots.map(({ name }) => name);
  const missing = names.filter((name) => !Object.hasOwn(state, name));
  const unexpected = Object.keys(state).filter((name) => !names.includes(name));
  if (missing.length > 0 || unexpected.length > 0) {
    const list = (keys: string[]) => keys.map((key) => JSON.stringify(key)).join(', ');
    throw new Error(
      `${where}: the keys must be the model's parameters ${list(names)}` +
      `${missing.length ? `; missing ${list(missing)}` : ''}${unexpected.length ? `; unexpected ${list(unexpected)}` : ''}`,
    );
  }
  // Copied out before any write: `state` may view the model's own memory.
  const values = slots.map(({ name, parameter, shape }) => {
    const label = JSON.stringify(name);
    const entry: unknown = state[name];
    if (typeof entry !== 'object' || entry === null) {
      throw new TypeError(`${where}: ${label} must be an object { shape, data }; got ${describe(entry)}`);
    }
    const { shape: got, data } = entry as { shape?: unknown; data?: unknown };
    const expected = `${label} must have shape ${shapeText(shape)} (PyTorch's layout${shape.length === 2 ? ': out×in' : ''})`;
    if (!Array.isArray(got)) throw new TypeError(`${where}: ${expected}; got ${describe(got)}`);
    if (got.length !== shape.length || got.some((size, i) => size !== shape[i])) {
      throw new RangeError(`${where}: ${expected}; got ${shapeText(got)}`);
    }
    checkFloat32Array(where, `${label}.data`, data, parameter.length, `shape ${shapeText(shape)}`);
    return transposed(data, shape);
  });
  slots.forEach(({ parameter }, i) => parameter.value.set(values[i]));
}

/** One tensor of a safetensors header, its offsets relative to the data after the header. */
interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** Parses and checks a whole safetensors file (as strictly as the reference reader) into a state dict. */
function readSafetensors(where: string, bytes: Uint8Array | ArrayBuffer): StateDict {
  const tag = Object.prototype.toString.call(bytes);
  if (tag !== '[object Uint8Array]' && tag !== '[object ArrayBuffer]') {
    throw new TypeError(`${where}: bytes must be a Uint8Array or an ArrayBuffer; got ${describe(bytes)}`);
  }
  const file = tag === '[object ArrayBuffer]' ? new Uint8Array(bytes as ArrayBuffer) : (bytes as Uint8Array);
  if (file.length < 8) {
    throw new Error(`${where}: a safetensors file starts with an 8-byte header length; got only ${file.length} bytes`);
  }
  const length = new DataView(file.buffer, file.byteOffset, file.byteLength).getBigUint64(0, true);
  const after = file.length - 8;
  if (length > BigInt(Math.min(after, MAX_HEADER_BYTES))) {
    throw new Error(
      `${where}: the header length ${length} ${length > MAX_HEADER_BYTES ? `exceeds the limit of ${MAX_HEADER_BYTES} bytes` : `runs past the end of the file (${after} bytes follow it)`}; the file is corrupt or not safetensors`,
    );
  }
  const headerEnd = 8 + Number(length);
  const header = parseHeader(where, file.subarray(8, headerEnd));
  if ('__metadata__' in header && !isStringMap(header.__metadata__)) {
    throw new Error(`${where}: __metadata__ in the header must map strings to strings; got ${describe(header.__metadata__)}`);
  }
  const entries = Object.entries(header).filter(([name]) => name !== '__metadata__').map(([name, info]) => parseEntry(where, name, info));
  const data = file.subarray(headerEnd);
  checkLayout(where, entries, data.length);
  const state: StateDict = {};
  for (const { name, dtype, shape, begin, end } of entries) state[name] = { shape, data: decode(dtype, data.subarray(begin, end)) };
  return state;
}

function parseHeader(where: string, bytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    // ignoreBOM keeps a byte-order mark in the text, where JSON.parse rejects it as the reference does.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new Error(`${where}: the header is not valid UTF-8`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where}: the header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error(`${where}: the header must be a JSON object; got ${describe(header)}`);
  }
  return header as Record<string, unknown>;
}

function parseEntry(where: string, name: string, info: unknown): Entry {
  const label = `${where}: tensor ${JSON.stringify(name)}`;
  if (typeof info !== 'object' || info === null || Array.isArray(info)) {
    throw new Error(`${label} must be an object with dtype, shape and data_offsets; got ${describe(info)}`);
  }
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (typeof dtype !== 'string') throw new Error(`${label}: dtype must be a string such as "F32"; got ${describe(dtype)}`);
  if (!DECODERS.has(dtype)) throw new Error(`${label} has dtype ${dtype}; only F32, F16 and BF16 can be loaded`);
  if (!isSizeList(shape)) throw new Error(`${label}: shape must be an array of non-negative integers; got ${JSON.stringify(shape)}`);
  if (!isSizeList(offsets) || offsets.length !== 2) {
    throw new Error(`${label}: data_offsets must be [begin, end], two non-negative integers; got ${JSON.stringify(offsets)}`);
  }
  return { name, dtype, shape, begin: offsets[0], end: offsets[1] };
}

/**
 * The format requires the tensors to tile the data exactly: in offset order, each
 * begins where the previous ends, spans its shape's bytes, and the last ends the file.
 */
function checkLayout(where: string, entries: Entry[], dataLength: number): void {
  let at = 0;
  let previous = '';
  for (const { name, dtype, shape, begin, end } of [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end)) {
    const label = `${where}: tensor ${JSON.stringify(name)} has data_offsets [${begin}, ${end}]`;
    if (end < begin) throw new Error(`${label}, which end before they begin`);
    if (end > dataLength) throw new Error(`${label}, past the end of the ${dataLength} data bytes; the file is truncated or corrupt`);
    if (begin < at) throw new Error(`${label}, overlapping tensor ${JSON.stringify(previous)}, which ends at ${at}`);
    if (begin > at) throw new Error(`${label}, leaving bytes ${at}–${begin} unused; tensors must cover the data without gaps`);
    // Shape products beyond 2⁵³ are inexact but still far from any real byte count.
    const bytes = shape.reduce((product, size) => product * size, 1) * DECODERS.get(dtype)!.size;
    if (end - begin !== bytes) throw new Error(`${label}, ${end - begin} bytes; shape ${shapeText(shape)} of ${dtype} needs ${bytes}`);
    at = end;
    previous = name;
  }
  if (at !== dataLength) {
    throw new Error(`${where}: the tensors cover ${at} of the ${dataLength} data bytes; the rest belongs to none`);
  }
}

/** Float32 values of little-endian `bytes` of `dtype`, built from bit patterns so even NaN payloads are exact. */
function decode(dtype: string, bytes: Uint8Array): Float32Array {
  const { size, bits } = DECODERS.get(dtype)!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float32Array(bytes.length / size);
  const target = bitsOf(values);
  for (let i = 0; i < values.length; i++) target[i] = bits(view, i);
  return values;
}

/**
 * The float32 bit pattern of an IEEE half: every half is exactly a float32. The
 * exponent is rebiased (15 → 127) and the fraction widened (10 → 23 bits); a
 * subnormal half is normalized; inf and NaN keep their sign and payload.
 */
function halfToFloatBits(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >> 10) & 0x1f;
  let fraction = half & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (fraction << 13)) >>> 0;
  if (exponent !== 0) return (sign | ((exponent + 127 - 15) << 23) | (fraction << 13)) >>> 0;
  if (fraction === 0) return sign >>> 0;
  // fraction·2⁻²⁴: shift the leading 1 up to the implicit bit, lowering 2⁻¹⁴ once per shift.
  let biased = 127 - 14;
  while ((fraction & 0x400) === 0) {
    fraction <<= 1;
    biased--;
  }
  return (sign | (biased << 23) | ((fraction & 0x3ff) << 13)) >>> 0;
}

/**
 * A copy of `values` (shaped `shape`), transposed when 2-D: that turns our in×out
 * weight into PyTorch's out×in and back. Copies bit patterns, so NaN payloads survive.
 */
function transposed(values: Float32Array, shape: readonly number[]): Float32Array {
  const source = bitsOf(values);
  const copy = new Float32Array(values.length);
  const target = bitsOf(copy);
  if (shape.length !== 2) target.set(source);
  else {
    const [rows, cols] = shape;
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) target[c * rows + r] = source[r * cols + c];
  }
  return copy;
}

const bitsOf = (values: Float32Array) => new Uint32Array(values.buffer, values.byteOffset, values.length);

const shapeText = (shape: readonly unknown[]) => `[${shape.map((size) => describe(size)).join(', ')}]`;

function isSizeList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((size) => Number.isSafeInteger(size) && size >= 0);
}

function isStringMap(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}
