// PyTorch-compatible state dicts and safetensors files for Sequential models. Names
// and layouts are PyTorch's, so a file written by safetensors.torch.save_file for an
// nn.Sequential of nn.Linear loads here, and one written here loads there.
import { arrayBufferBytes, bitsOf, bufferOf, byteOffsetOf, isDetachedBuffer, lengthOf, typedArrayKind } from './arrays.js';
import { checkFloat32Array, clipped, describe } from './errors.js';
import { transposedInTorch, type Parameter } from './layer.js';
import type { Sequential } from './sequential.js';

/** Tensors by PyTorch name, in PyTorch's layout: a Linear weight is out×in, a bias [out]. */
export type StateDict = Record<string, { shape: number[]; data: Float32Array }>;

/** The reference implementation refuses larger headers; so do we, before decoding one. */
const MAX_HEADER_BYTES = 100_000_000;

/**
 * Error messages quote names, shapes and values from the file or the state, which may
 * be huge: each quote is cut to a few items of a few characters. The longest message,
 * three lists of names, stays under 1 KB however large the input.
 */
const QUOTED_NAMES = 5;
const QUOTED_CHARS = 32;
// A name quoted alone may be longer: PEFT's keys of a nested module run to 60–90 characters.
const QUOTED_NAME_CHARS = 96;
const QUOTED_DIMS = 8;

/** A parameter of the model, under the name a file gives it, with the shape PyTorch gives it. */
export interface Slot {
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
    state[name] = { shape, data: toTorchLayout(parameter, parameter.value) };
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
  assign(where, slotsOf(where, model), stateSource(where, state));
}

/**
 * The model as a safetensors file: a little-endian u64 header length, the JSON header
 * padded with spaces to a multiple of 8 bytes, then float32 data. Tensors are ordered
 * as the reference writer orders them, so the bytes equal those of
 * `safetensors.torch.save_file(model.state_dict(), path, metadata)`.
 */
export function saveSafetensors(model: Sequential, metadata?: Record<string, string>): Uint8Array {
  const where = 'saveSafetensors';
  return writeSafetensors(where, slotsOf(where, model), metadata);
}

/** The safetensors file of `slots` (saveSafetensors, and saveAdapters for a model's adapters). */
export function writeSafetensors(where: string, slots: Slot[], metadata?: Record<string, string>): Uint8Array {
  if (metadata !== undefined && !isStringMap(metadata)) {
    throw new TypeError(`${where}: metadata must be an object whose values are strings; got ${describe(metadata)}`);
  }
  // The reference sorts by dtype (all F32 here), then by name; our names are ASCII,
  // so JavaScript's string order is its byte order.
  const tensors = slots
    .map(({ name, parameter, shape }) => ({ name, shape, data: toTorchLayout(parameter, parameter.value) }))
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
  readSafetensorsInto(where, slotsOf(where, model), bytes);
}

/** Sets `slots` from a safetensors file holding exactly their names and shapes, atomically (loadSafetensors, loadAdapters). */
export function readSafetensorsInto(where: string, slots: Slot[], bytes: Uint8Array | ArrayBuffer): void {
  assign(where, slots, readSafetensors(where, bytes, slots.length));
}

function slotsOf(where: string, model: Sequential): Slot[] {
  if (typeof methodOf(model, 'namedParameters') !== 'function') {
    throw new TypeError(`${where}: model must be a Sequential; got ${describe(model)}`);
  }
  return model.namedParameters().map(({ name, parameter }) => ({ name, parameter, shape: [...parameter.torchShape] }));
}

/** `value[key]`, or undefined where even looking throws (a revoked Proxy): such a value is not the model asked for. */
function methodOf(value: unknown, key: string): unknown {
  try {
    return (value as Record<string, unknown> | null | undefined)?.[key];
  } catch {
    return undefined;
  }
}

/**
 * Named tensors to load: every name the source holds, and a reader for one of them.
 * Names are data, compared as strings and never looked up on a plain object, where
 * `__proto__` or `toString` would find something that is not there.
 */
interface TensorSource {
  names: readonly string[];
  read(name: string): unknown;
}

function stateSource(where: string, state: StateDict): TensorSource {
  if (typeof state !== 'object' || state === null) {
    throw new TypeError(`${where}: the state must be an object of { shape, data } by name; got ${describe(state)}`);
  }
  // Object.keys lists own keys only; reading one of them finds that own property, even one named __proto__.
  return { names: Object.keys(state), read: (name) => state[name] };
}

/** Checks the source against the model's parameters entirely, then writes them all. */
function assign(where: string, slots: Slot[], source: TensorSource): void {
  checkNames(where, slots.map(({ name }) => name), source.names);
  // Copied out before any write: a state may view the model's own memory.
  const values = slots.map((slot) => checkedValues(where, slot, source.read(slot.name)));
  // Every target is fetched (which throws for a disposed layer) before the first write.
  const targets = slots.map(({ parameter }) => parameter.value);
  targets.forEach((target, i) => target.set(values[i]));
}

function checkNames(where: string, expected: readonly string[], got: readonly string[]): void {
  const wanted = new Set(expected);
  const present = new Set(got);
  const missing = expected.filter((name) => !present.has(name));
  const unexpected = got.filter((name) => !wanted.has(name));
  if (missing.length === 0 && unexpected.length === 0) return;
  throw new Error(
    `${where}: the keys must be the model's parameters ${quotedList(expected)}` +
    `${missing.length ? `; missing ${quotedList(missing)}` : ''}${unexpected.length ? `; unexpected ${quotedList(unexpected)}` : ''}`,
  );
}

/** The values of `entry` in our layout, once its shape and data are checked against `slot`. */
function checkedValues(where: string, { name, parameter, shape }: Slot, entry: unknown): Float32Array {
  const label = quoted(name);
  if (typeof entry !== 'object' || entry === null) {
    throw new TypeError(`${where}: ${label} must be an object { shape, data }; got ${describe(entry)}`);
  }
  const { shape: got, data } = entry as { shape?: unknown; data?: unknown };
  const expected = `${label} must have shape ${shapeText(shape)} (PyTorch's layout${transposedInTorch(parameter) ? ': out×in' : ''})`;
  if (!Array.isArray(got)) throw new TypeError(`${where}: ${expected}; got ${describe(got)}`);
  if (got.length !== shape.length || [...got].some((size, i) => size !== shape[i])) { // spread: a hole is no size
    throw new RangeError(`${where}: ${expected}; got ${shapeText(got)}`);
  }
  // As every input: read by the engine's own accessors, and refused if it shows freed memory or the package's own.
  checkFloat32Array(where, `${label}.data`, data, parameter.length, `shape ${shapeText(shape)}`);
  return bitCopy(data, transposedInTorch(parameter) ? shape : undefined);
}

/** A copy of a parameter's values in PyTorch's layout. */
function toTorchLayout(parameter: Parameter, values: Float32Array): Float32Array {
  return bitCopy(values, transposedInTorch(parameter) ? parameter.shape : undefined);
}

/** One tensor of a safetensors header, its offsets relative to the data after the header. */
interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Checks a whole safetensors file (as strictly as the reference reader) and returns
 * its tensors, decoded only when read: a file of many tensors costs only those of the model.
 */
function readSafetensors(where: string, bytes: Uint8Array | ArrayBuffer, parameterCount: number): TensorSource {
  const file = fileBytes(where, bytes);
  const headerEnd = 8 + headerLength(where, file);
  const text = headerText(where, file.subarray(8, headerEnd));
  checkHeaderKeys(where, text, parameterCount);
  const header = parseHeader(where, text);
  if (Object.hasOwn(header, '__metadata__') && !isStringMap(header.__metadata__)) {
    throw new Error(`${where}: __metadata__ in the header must map strings to strings; got ${describe(header.__metadata__)}`);
  }
  const entries = new Map<string, Entry>();
  for (const name of Object.keys(header)) {
    if (name !== '__metadata__') entries.set(name, parseEntry(where, name, header[name]));
  }
  const data = file.subarray(headerEnd);
  checkLayout(where, [...entries.values()], data.length);
  return {
    names: [...entries.keys()],
    read(name) {
      const { dtype, shape, begin, end } = entries.get(name)!;
      return { shape, data: decode(dtype, data.subarray(begin, end)) };
    },
  };
}

/**
 * `bytes` as a Uint8Array of our own over the same memory, its extent read through the
 * engine's accessors: a subclass's or a Proxy's getters do not decide what is read.
 */
function fileBytes(where: string, bytes: unknown): Uint8Array {
  const refuse = () => new TypeError(`${where}: bytes must be a Uint8Array or an ArrayBuffer; got ${describe(bytes)}`);
  if (typedArrayKind(bytes) === 'Uint8Array') {
    const array = bytes as Uint8Array;
    const buffer = bufferOf(array);
    if (isDetachedBuffer(buffer)) throw refuse();
    return new Uint8Array(buffer, byteOffsetOf(array), lengthOf(array));
  }
  if (arrayBufferBytes(bytes) === undefined || isDetachedBuffer(bytes)) throw refuse();
  return new Uint8Array(bytes as ArrayBuffer);
}

/** The header's length from the first 8 bytes, checked against the bytes after them before anything is decoded. */
function headerLength(where: string, file: Uint8Array): number {
  if (file.length < 8) {
    throw new Error(`${where}: a safetensors file starts with an 8-byte header length; got only ${file.length} bytes`);
  }
  const length = new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true);
  const after = file.length - 8;
  if (length > BigInt(Math.min(after, MAX_HEADER_BYTES))) {
    throw new Error(
      `${where}: the header length ${length} ${length > MAX_HEADER_BYTES ? `exceeds the limit of ${MAX_HEADER_BYTES} bytes` : `runs past the end of the file (${after} bytes follow it)`}; the file is corrupt or not safetensors`,
    );
  }
  return Number(length);
}

function headerText(where: string, bytes: Uint8Array): string {
  try {
    // ignoreBOM keeps a byte-order mark in the text, where JSON.parse rejects it as the reference does.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new Error(`${where}: the header is not valid UTF-8`);
  }
}

/**
 * Refuses, before JSON.parse builds them, a header of more entries than the model has
 * parameters (and __metadata__): parsing 10⁶ of them alone takes seconds. Also refuses
 * a key listed twice, which JSON.parse would silently resolve to the last.
 */
function checkHeaderKeys(where: string, text: string, parameterCount: number): void {
  const limit = parameterCount + 1;
  // One key past the limit is kept, so that a header one entry too long for a repeated key says so.
  const scan = topLevelKeys(text, Math.max(limit + 1, QUOTED_NAMES));
  // Text the scan cannot follow is not JSON; parseHeader says so.
  if (scan === undefined) return;
  const { count, keys } = scan;
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) throw new Error(`${where}: the header lists ${quoted(key)} twice; the file is corrupt`);
    seen.add(key);
  }
  if (count > limit) {
    throw new Error(
      `${where}: the header lists ${count} entries, more than the model's ${parameterCount} parameters and __metadata__: ${quotedList(keys, count)}`,
    );
  }
}

const QUOTE = 0x22, BACKSLASH = 0x5c, COLON = 0x3a, OPEN_BRACE = 0x7b;
const OPENERS = new Set([OPEN_BRACE, 0x5b]), CLOSERS = new Set([0x7d, 0x5d]);
/** JSON's whitespace: space, tab, LF, CR (not a byte-order mark, which JSON.parse refuses). */
const JSON_SPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * How many keys the JSON object `text` has at its top level, and the first `keep` of
 * them, in one pass that builds nothing else. Undefined where `text` does not look
 * like a JSON object; for valid JSON, these are exactly the keys JSON.parse reads.
 */
function topLevelKeys(text: string, keep: number): { count: number; keys: string[] } | undefined {
  let i = 0;
  while (JSON_SPACE.has(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== OPEN_BRACE) return undefined;
  const keys: string[] = [];
  let depth = 0, count = 0, lastString = '';
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end < 0) return undefined;
      // At depth 1, a string followed by a colon is a key; only those are ever kept.
      if (depth === 1) lastString = text.slice(i, end + 1);
      i = end;
    } else if (OPENERS.has(c)) depth++;
    else if (CLOSERS.has(c)) {
      if (--depth === 0) return { count, keys };
    } else if (c === COLON && depth === 1) {
      count++;
      if (keys.length < keep) {
        const key = parsedString(lastString);
        if (key === undefined) return undefined;
        keys.push(key);
      }
    }
  }
  return undefined;
}

/** The index of the quote closing the JSON string opened at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  for (let at = text.indexOf('"', start + 1); at >= 0; at = text.indexOf('"', at + 1)) {
    // A quote after an even run of backslashes closes the string. Each run precedes one quote, so this stays linear.
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}

function parsedString(literal: string): string | undefined {
  try {
    const value: unknown = JSON.parse(literal);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

function parseHeader(where: string, text: string): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where}: the header is not valid JSON (${clipped((error as Error).message, 200)})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error(`${where}: the header must be a JSON object; got ${describe(header)}`);
  }
  return header as Record<string, unknown>;
}

function parseEntry(where: string, name: string, info: unknown): Entry {
  const label = `${where}: tensor ${quoted(name)}`;
  if (typeof info !== 'object' || info === null || Array.isArray(info)) {
    throw new Error(`${label} must be an object with dtype, shape and data_offsets; got ${describe(info)}`);
  }
  // Own properties only: what Object.prototype holds is not in the file.
  const [dtype, shape, offsets] = ['dtype', 'shape', 'data_offsets'].map((key) => (Object.hasOwn(info, key) ? (info as Record<string, unknown>)[key] : undefined));
  if (typeof dtype !== 'string') throw new Error(`${label}: dtype must be a string such as "F32"; got ${describe(dtype)}`);
  if (!DECODERS.has(dtype)) throw new Error(`${label} has dtype ${clipped(dtype, QUOTED_CHARS)}; only F32, F16 and BF16 can be loaded`);
  if (!isSizeList(shape)) throw new Error(`${label}: shape must be an array of non-negative integers; got ${jsonExcerpt(shape)}`);
  if (!isSizeList(offsets) || offsets.length !== 2) {
    throw new Error(`${label}: data_offsets must be [begin, end], two non-negative integers; got ${jsonExcerpt(offsets)}`);
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
    const label = () => `${where}: tensor ${quoted(name)} has data_offsets [${begin}, ${end}]`;
    if (end < begin) throw new Error(`${label()}, which end before they begin`);
    if (end > dataLength) throw new Error(`${label()}, past the end of the ${dataLength} data bytes; the file is truncated or corrupt`);
    if (begin < at) throw new Error(`${label()}, overlapping tensor ${quoted(previous)}, which ends at ${at}`);
    if (begin > at) throw new Error(`${label()}, leaving bytes ${at}–${begin} unused; tensors must cover the data without gaps`);
    // Shape products beyond 2⁵³ are inexact but still far from any real byte count.
    const bytes = shape.reduce((product, size) => product * size, 1) * DECODERS.get(dtype)!.size;
    if (end - begin !== bytes) throw new Error(`${label()}, ${end - begin} bytes; shape ${shapeText(shape)} of ${dtype} needs ${bytes}`);
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
 * A copy of `values`, transposed when `matrix` gives their [rows, cols] (our in×out
 * weight into PyTorch's out×in and back). Copies bit patterns, so NaN payloads survive.
 */
function bitCopy(values: Float32Array, matrix?: readonly number[]): Float32Array {
  const source = bitsOf(values);
  const copy = new Float32Array(source.length);
  const target = bitsOf(copy);
  if (matrix === undefined) target.set(source);
  else {
    const [rows, cols] = matrix;
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) target[c * rows + r] = source[r * cols + c];
  }
  return copy;
}

/** A name as a JSON string, a long one cut short (its length said). Cut after escaping, which may lengthen it. */
/** A name as JSON, cut in the middle when long: the end of a name (its index, `.weight`) tells names apart. */
function quoted(name: string, chars = QUOTED_NAME_CHARS): string {
  const json = JSON.stringify(name);
  const head = 21; // the quote and 20 characters: enough for "base_model.model.12."
  return json.length <= chars ? json : `${json.slice(0, head)}…${json.slice(json.length - (chars - head - 1))} (${name.length} characters)`;
}

/** The first few of `names` quoted; `total` of them in all (more than listed when only the first were kept). */
function quotedList(names: readonly string[], total = names.length): string {
  const listed = names.slice(0, QUOTED_NAMES).map((name) => quoted(name, QUOTED_CHARS)).join(', ');
  return total > QUOTED_NAMES ? `${listed}, … and ${total - QUOTED_NAMES} more` : listed;
}

/** A shape for messages: its first few sizes, and how many there are when that is not all. */
function shapeText(shape: readonly unknown[]): string {
  const sizes = shape.slice(0, QUOTED_DIMS).map((size) => clipped(describe(size), 24));
  return shape.length <= QUOTED_DIMS ? `[${sizes.join(', ')}]` : `[${sizes.join(', ')}, … (${shape.length} sizes)]`;
}

/** The start of a value's JSON, for messages. */
const jsonExcerpt = (value: unknown) => clipped(String(JSON.stringify(value)), 100);

function isSizeList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((size) => Number.isSafeInteger(size) && size >= 0);
}

function isStringMap(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}
