// A fuzz test of loadSafetensors: valid files, as saveSafetensors writes them (and F16,
// BF16 and metadata variants), mutated in their structure (offsets, shapes, dtypes,
// keys, __metadata__, the header as a whole) and in their bytes (truncations, the
// header length, flips, inserted bytes that are not UTF-8). Every case must either be
// refused with a short Error of ours, the model bit-identical to before, or load
// exactly what an independent reader of the format finds in the file. A file that
// reader finds valid must load. SIMD_LINEAR_FUZZ_RUNS sets the number of cases (e.g.
// 10000 locally); the seed is fixed (SIMD_LINEAR_FUZZ_SEED) so CI is repeatable.
import fc from 'fast-check';
import { beforeAll, expect, test } from 'vitest';
import { init, Linear, loadStateDict, loadSafetensors, ReLU, saveSafetensors, Sequential, stateDict } from '../dist/index.js';
import { initOptions, testEnv } from './support.js';

const runs = Number(testEnv.SIMD_LINEAR_FUZZ_RUNS ?? 400);
const seed = Number(testEnv.SIMD_LINEAR_FUZZ_SEED ?? 20261125);
/** A case takes well under a millisecond; long local runs get the time they need. */
const timeout = 60_000 + runs * 10;


/** A Linear, a ReLU, a bias-free Linear and a Linear: names 0.weight, 0.bias, 2.weight, 3.weight, 3.bias. */
const build = (s: number) => new Sequential([
  new Linear(4, 5, { seed: s }), new ReLU(), new Linear(5, 3, { seed: s + 1, bias: false }), new Linear(3, 2, { seed: s + 2 }),
]);
const names = ['0.weight', '0.bias', '2.weight', '3.weight', '3.bias'];
/** PyTorch's shapes of those parameters. */
const shapes: Record<string, number[]> = { '0.weight': [5, 4], '0.bias': [5], '2.weight': [3, 5], '3.weight': [2, 3], '3.bias': [2] };

/** JSON text to put in a header as it is: keys such as __proto__, numbers JSON.stringify would not write. */
class Raw {
  constructor(readonly text: string) {}
}
const toJson = (value: unknown): string => (value instanceof Raw ? value.text : JSON.stringify(value) ?? 'null');

/** A file before it is laid out: header members in order (keys may repeat), and the data. */
interface Draft {
  members: [string, unknown][];
  data: Uint8Array;
  /** Replaces the whole header text when set. */
  text?: string;
}

interface TensorInfo { dtype: string; shape: number[]; data_offsets: [number, number] }

function draftOf(file: Uint8Array): Draft {
  const length = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + length))) as Record<string, unknown>;
  return { members: Object.entries(header), data: file.slice(8 + length) };
}

/** The same tensors stored as 16-bit `dtype`, from a fixed scatter of every bit pattern (NaNs, infinities, subnormals). */
function sixteenBit(base: Draft, dtype: 'F16' | 'BF16'): Draft {
  let at = 0;
  const members = base.members.map(([name, info]): [string, unknown] => {
    const { shape } = info as TensorInfo;
    const bytes = 2 * shape.reduce((a, b) => a * b, 1);
    const member: [string, unknown] = [name, { dtype, shape, data_offsets: [at, at + bytes] }];
    at += bytes;
    return member;
  });
  const data = new Uint8Array(at);
  for (let i = 0; i < at / 2; i++) new DataView(data.buffer).setUint16(2 * i, Math.imul(i + 1, 0x9e37) & 0xffff, true);
  return { members, data };
}

/** The valid files every case starts from: F32 as saved, with metadata, and F16 and BF16. */
const bases: Draft[] = [];
beforeAll(async () => {
  await init(initOptions);
  const saved = draftOf(saveSafetensors(build(1)));
  bases.push(saved, draftOf(saveSafetensors(build(7), { format: 'pt', note: 'ünïcode' })), sixteenBit(saved, 'F16'), sixteenBit(saved, 'BF16'));
});

/** Lays a draft out as the format says: u64 LE header length, the header padded with spaces to 8 bytes, the data. */
function layOut({ members, data, text }: Draft): { file: Uint8Array; headerEnd: number } {
  const json = new TextEncoder().encode(text ?? `{${members.map(([key, value]) => `${JSON.stringify(key)}:${toJson(value)}`).join(',')}}`);
  const padded = Math.ceil(json.length / 8) * 8;
  const file = new Uint8Array(8 + padded + data.length).fill(0x20, 8, 8 + padded);
  new DataView(file.buffer).setBigUint64(0, BigInt(padded), true);
  file.set(json, 8);
  file.set(data, 8 + padded);
  return { file, headerEnd: 8 + padded };
}

// ---- Mutations of the structure ----

type Edit = (draft: Draft) => void;
const tensorIndex = fc.nat(7);
/** The member a tensor index picks (wrapping), skipping __metadata__; undefined when there are none. */
function pick(draft: Draft, index: number): [string, unknown] | undefined {
  const tensors = draft.members.filter(([key]) => key !== '__metadata__');
  return tensors.length ? tensors[index % tensors.length] : undefined;
}
function withInfo(draft: Draft, index: number, change: (info: Record<string, unknown>) => unknown): void {
  const member = pick(draft, index);
  if (member && typeof member[1] === 'object' && member[1] !== null && !(member[1] instanceof Raw)) member[1] = change({ ...(member[1] as object) });
}

const oddNumber = fc.oneof(
  fc.integer({ min: -8, max: 140 }),
  fc.constantFrom(-1, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, Number.MAX_VALUE, 0.5, 1.5, 4.000001),
  fc.constantFrom(new Raw('-0'), new Raw('1e400'), new Raw('4.0'), new Raw('8e0'), new Raw('"8"'), new Raw('null'), new Raw('true')),
);
const offsets = fc.oneof(
  fc.tuple(oddNumber, oddNumber).map((pair) => new Raw(`[${pair.map(toJson).join(',')}]`)),
  fc.constantFrom([], [0], [0, 0, 0], null, '0,8', { 0: 0, 1: 8 }),
);
const shape = fc.oneof(
  fc.array(fc.integer({ min: -1, max: 6 }), { maxLength: 4 }),
  fc.constantFrom([], [0], [1.5], ['5'], null, 5, '5', [2 ** 53], [1e6, 1e6], [5, 4, 1], [1, 5, 4], [20], [4, 5], [5, 4]),
);
const dtype = fc.constantFrom('F32', 'F16', 'BF16', 'I32', 'F64', 'U8', 'BOOL', 'F8_E4M3', 'F32 ', ' F32', 'f32', 'bf16', '', 'constructor', '__proto__', 42, null, ['F32']);
const otherName = fc.constantFrom(
  '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__metadata__', '', '0.weight ', '0.Weight', '1.weight',
  '0.weight\u0000', 'é', '\ud800', ...names,
);
const metadata = fc.constantFrom(
  null, [], 'pt', 1, {}, { format: 'pt' }, { epochs: 3 }, { a: null }, { a: { b: 'c' } },
  new Raw('{"__proto__":"x"}'), new Raw('{"__proto__":1}'), new Raw('{"format":"pt","format":"np"}'),
);
const wholeHeader = fc.constantFrom(
  '', ' ', '[]', 'null', '1', '"x"', 'true', '{}', '{', '{"a":', '}', '\ufeff{}', '[{"0.bias":{}}]', '{"__proto__":{}}',
  '{"__metadata__":{}}', '{"0.bias":[]}', '{"0.bias":{"dtype":"F32"}}', '{"\\u0030.bias":{}}', '{"a":"\\"}', '{"a":"\\\\"}',
);

/** Edits the flag marks may list a key twice, which JSON.parse resolves silently and the loader refuses. */
const edit: fc.Arbitrary<{ apply: Edit; duplicates?: boolean }> = fc.oneof(
  fc.tuple(tensorIndex, offsets).map(([i, value]) => ({ apply: (d: Draft) => withInfo(d, i, (info) => ({ ...info, data_offsets: value })) })),
  fc.tuple(tensorIndex, fc.integer({ min: -8, max: 8 }), fc.boolean()).map(([i, delta, both]) => ({
    apply: (d: Draft) => withInfo(d, i, (info) => {
      if (!Array.isArray(info.data_offsets)) return info; // an earlier edit made them something else
      const [begin, end] = info.data_offsets as number[];
      return { ...info, data_offsets: [begin + delta, both ? end + delta : end] };
    }),
  })),
  fc.tuple(tensorIndex, tensorIndex).map(([i, j]) => ({
    apply: (d: Draft) => {
      const [a, b] = [pick(d, i), pick(d, j)];
      const offsetsOf = (member?: [string, unknown]) => (member?.[1] as { data_offsets?: unknown } | undefined)?.data_offsets;
      const [x, y] = [offsetsOf(a), offsetsOf(b)];
      withInfo(d, i, (info) => ({ ...info, data_offsets: y }));
      withInfo(d, j, (info) => ({ ...info, data_offsets: x }));
    },
  })),
  fc.tuple(tensorIndex, shape).map(([i, value]) => ({ apply: (d: Draft) => withInfo(d, i, (info) => ({ ...info, shape: value })) })),
  tensorIndex.map((i) => ({ apply: (d: Draft) => withInfo(d, i, (info) => (Array.isArray(info.shape) ? { ...info, shape: [...info.shape].reverse() } : info)) })),
  fc.tuple(tensorIndex, dtype).map(([i, value]) => ({ apply: (d: Draft) => withInfo(d, i, (info) => ({ ...info, dtype: value })) })),
  fc.tuple(tensorIndex, otherName).map(([i, name]) => ({
    duplicates: true,
    apply: (d: Draft) => {
      const member = pick(d, i);
      if (member) member[0] = name;
    },
  })),
  tensorIndex.map((i) => ({ apply: (d: Draft) => { d.members = d.members.filter((m) => m !== pick(d, i)); } })),
  fc.tuple(tensorIndex, fc.boolean()).map(([i, same]) => ({
    duplicates: true,
    apply: (d: Draft) => {
      const member = pick(d, i);
      if (member) d.members.push([member[0], same ? member[1] : { dtype: 'F32', shape: [1], data_offsets: [0, 4] }]);
    },
  })),
  fc.tuple(otherName, fc.boolean()).map(([name, withData]) => ({
    duplicates: true,
    apply: (d: Draft) => {
      // An extra F32 scalar at the end of the data, with or without its 4 bytes.
      d.members.push([name, { dtype: 'F32', shape: [1], data_offsets: [d.data.length, d.data.length + 4] }]);
      if (withData) d.data = Uint8Array.from([...d.data, 0, 0, 0x80, 0x3f]);
    },
  })),
  fc.tuple(tensorIndex, fc.constantFrom([], 1, null, 'x', {}, { dtype: 'F32' }, new Raw('{"__proto__":{"dtype":"F32"}}'))).map(([i, value]) => ({
    apply: (d: Draft) => {
      const member = pick(d, i);
      if (member) member[1] = value;
    },
  })),
  fc.tuple(tensorIndex, fc.constantFrom('extra', '__proto__', 'constructor', 'dtype'), fc.constantFrom(1, 'F16', null, [2])).map(([i, field, value]) => ({
    duplicates: field === 'dtype',
    apply: (d: Draft) => withInfo(d, i, (info) => new Raw(`${JSON.stringify(info).slice(0, -1)},${JSON.stringify(field)}:${JSON.stringify(value)}}`)),
  })),
  metadata.map((value) => ({
    apply: (d: Draft) => {
      d.members = d.members.filter(([key]) => key !== '__metadata__');
      d.members.unshift(['__metadata__', value]);
    },
  })),
  fc.nat().map((shift) => ({
    // Members in another order, offsets unchanged: still a valid file.
    apply: (d: Draft) => { d.members = d.members.map((_, i, all) => all[(i + shift) % all.length]); },
  })),
  wholeHeader.map((text) => ({ duplicates: true, apply: (d: Draft) => { d.text = text; } })),
);

// ---- Mutations of the bytes ----

type ByteEdit = (file: Uint8Array, headerEnd: number) => Uint8Array;
const fraction = fc.double({ min: 0, max: 1, noNaN: true });
const at = (length: number, f: number) => Math.min(length - 1, Math.floor(f * length));
const notUtf8 = fc.constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xef, 0xbb, 0xbf], [0xc0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0x00], [0x22], [0x5c], [0x7b], [0x7d], [0x3a], [0x2c]);
const setLength = (file: Uint8Array, length: bigint) => {
  const out = file.slice();
  if (out.length >= 8) new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, length), true);
  return out;
};

const byteEdit: fc.Arbitrary<{ apply: ByteEdit; inHeader?: boolean }> = fc.oneof(
  fraction.map((f) => ({ apply: (file: Uint8Array) => file.slice(0, Math.floor(f * file.length)) })),
  fc.uint8Array({ minLength: 1, maxLength: 16 }).map((extra) => ({ apply: (file: Uint8Array) => Uint8Array.from([...file, ...extra]) })),
  fc.integer({ min: -24, max: 24 }).map((delta) => ({ apply: (file: Uint8Array, headerEnd: number) => setLength(file, BigInt(headerEnd - 8 + delta)) })),
  fc.oneof(fc.constantFrom(0n, 1n, 7n, 100_000_001n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))
    .map((length) => ({ apply: (file: Uint8Array) => setLength(file, length) })),
  fc.tuple(fraction, fc.integer({ min: 0, max: 255 })).map(([f, byte]) => ({
    inHeader: true,
    apply: (file: Uint8Array, headerEnd: number) => {
      const out = file.slice();
      if (headerEnd > 8 && headerEnd <= out.length) out[8 + at(headerEnd - 8, f)] = byte;
      return out;
    },
  })),
  fc.tuple(fraction, fc.integer({ min: 0, max: 255 }), fc.nat(7)).map(([f, byte, bit]) => ({
    apply: (file: Uint8Array, headerEnd: number) => {
      // A byte or one bit of the data: still a valid file, whose new values must be loaded exactly.
      const out = file.slice();
      if (out.length > headerEnd) out[headerEnd + at(out.length - headerEnd, f)] ^= byte || 1 << bit;
      return out;
    },
  })),
  fc.tuple(fraction, notUtf8, fc.boolean()).map(([f, bytes, fixLength]) => ({
    inHeader: true,
    apply: (file: Uint8Array, headerEnd: number) => {
      if (headerEnd <= 8 || headerEnd > file.length) return file;
      const where = 8 + at(headerEnd - 8, f);
      const out = Uint8Array.from([...file.subarray(0, where), ...bytes, ...file.subarray(where)]);
      return fixLength ? setLength(out, BigInt(headerEnd - 8 + bytes.length)) : out;
    },
  })),
);

const fuzzCase = fc.record({
  base: fc.nat(3),
  edits: fc.array(edit, { maxLength: 3 }),
  byteEdits: fc.array(byteEdit, { maxLength: 2 }),
});

type FuzzCase = typeof fuzzCase extends fc.Arbitrary<infer T> ? T : never;

function fileOfCase({ base, edits, byteEdits }: FuzzCase): Uint8Array {
  const { members, data } = bases[base];
  const draft: Draft = { members: members.map(([key, value]) => [key, value]), data: data.slice() };
  for (const { apply } of edits) apply(draft);
  const { file, headerEnd } = layOut(draft);
  return byteEdits.reduce((bytes, { apply }) => apply(bytes, headerEnd), file);
}

// ---- An independent reader of the format ----

/** The float32 bits of an IEEE half, from the format's definition rather than bit tricks. */
function halfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1, exponent = (h >> 10) & 31, fraction = h & 1023;
  if (exponent === 31 && fraction) return (((h & 0x8000) << 16) | 0x7f800000 | (fraction << 13)) >>> 0;
  const value = exponent === 31 ? sign * Infinity : sign * (exponent ? (1 + fraction / 1024) * 2 ** (exponent - 15) : fraction * 2 ** -24);
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value);
  return view.getUint32(0);
}
const readers: Record<string, { size: number; bits: (view: DataView, i: number) => number }> = {
  F32: { size: 4, bits: (view, i) => view.getUint32(4 * i, true) },
  F16: { size: 2, bits: (view, i) => halfBits(view.getUint16(2 * i, true)) },
  BF16: { size: 2, bits: (view, i) => (view.getUint16(2 * i, true) << 16) >>> 0 },
};

const isSizes = (value: unknown): value is number[] => Array.isArray(value) && value.every((v) => Number.isSafeInteger(v) && v >= 0);

/**
 * What a strict reader finds in `file` for this model: every parameter's float32 bits
 * in our layout (in×out), or why the file is not a valid one for it.
 */
function readByTheFormat(file: Uint8Array): Map<string, Uint32Array> | string {
  if (file.length < 8) return 'short';
  const length = new DataView(file.buffer, file.byteOffset).getBigUint64(0, true);
  if (length > BigInt(file.length - 8) || length > 100_000_000n) return 'header length';
  const dataStart = 8 + Number(length);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(file.subarray(8, dataStart)));
  } catch {
    return 'not UTF-8 JSON';
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return 'not an object';
  const record = header as Record<string, unknown>;
  if (Object.hasOwn(record, '__metadata__')) {
    const meta = record.__metadata__;
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta) || !Object.values(meta).every((v) => typeof v === 'string')) return 'metadata';
  }
  const tensors = Object.keys(record).filter((key) => key !== '__metadata__');
  if (tensors.length !== names.length || !names.every((name) => tensors.includes(name))) return 'keys';
  const spans: [number, number, string][] = [];
  for (const name of tensors) {
    const info = record[name];
    if (typeof info !== 'object' || info === null || Array.isArray(info)) return 'info';
    const { dtype: type, shape: dims, data_offsets: span } = info as Record<string, unknown>;
    if (typeof type !== 'string' || !Object.hasOwn(readers, type)) return 'dtype';
    if (!isSizes(dims) || !isSizes(span) || span.length !== 2) return 'shape or offsets';
    if (dims.length !== shapes[name].length || dims.some((d, i) => d !== shapes[name][i])) return 'model shape';
    if (span[1] - span[0] !== readers[type].size * dims.reduce((a, b) => a * b, 1)) return 'size';
    spans.push([span[0], span[1], name]);
  }
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (spans.reduce((end, [begin, next]) => (begin === end ? next : NaN), 0) !== file.length - dataStart) return 'layout';
  const values = new Map<string, Uint32Array>();
  for (const name of names) {
    const { dtype: type, shape: dims, data_offsets: [begin] } = record[name] as TensorInfo;
    const view = new DataView(file.buffer, file.byteOffset + dataStart + begin);
    const count = dims.reduce((a, b) => a * b, 1);
    const bits = new Uint32Array(count);
    // PyTorch's out×in at [o][j] is our in×out at [j][o].
    const [rows, cols] = dims.length === 2 ? dims : [1, count];
    for (let o = 0; o < rows; o++) for (let j = 0; j < cols; j++) bits[j * rows + o] = readers[type].bits(view, o * cols + j);
    values.set(name, bits);
  }
  return values;
}

const bitsOf = (model: Sequential) => new Map(model.namedParameters().map(({ name, parameter }) => [name, new Uint32Array(parameter.value.buffer, parameter.value.byteOffset, parameter.length).slice()]));

test(`loadSafetensors on ${runs} mutated files: a short Error and the model unchanged, or exactly the file's values`, () => {
  const model = build(100);
  const initial = stateDict(model);
  const outcomes = { loaded: 0, refused: 0 };
  fc.assert(
    fc.property(fuzzCase, (fuzz) => {
      loadStateDict(model, initial);
      const file = fileOfCase(fuzz);
      const before = bitsOf(model);
      const expected = readByTheFormat(file);
      let thrown: unknown;
      try {
        loadSafetensors(model, file);
      } catch (error) {
        thrown = error;
      }
      if (thrown === undefined) {
        outcomes.loaded++;
        expect(typeof expected, `loaded a file the format reader refuses (${String(expected)})`).toBe('object');
        expect(bitsOf(model)).toEqual(expected);
        return;
      }
      outcomes.refused++;
      expect(thrown).toBeInstanceOf(Error);
      const { message } = thrown as Error;
      expect(message).toMatch(/^loadSafetensors: \S/);
      expect(message.length).toBeLessThanOrEqual(1024);
      expect(bitsOf(model)).toEqual(before);
      if (typeof expected === 'object') {
        // Only a key listed twice, which JSON.parse resolves to the last, may be refused where the reader accepts:
        // as such, or (when the repeats make more entries than the model could have) as too many entries.
        const mayDuplicate = fuzz.edits.some((e) => e.duplicates) || fuzz.byteEdits.some((e) => e.inHeader);
        expect(mayDuplicate && /lists ".*" twice|the header lists \d+ entries, more than/.test(message), `refused a valid file: ${message}`).toBe(true);
      }
    }),
    { numRuns: runs, seed },
  );
  // The generators must reach both outcomes, or the test checks less than it claims.
  expect(outcomes.loaded).toBeGreaterThan(0);
  expect(outcomes.refused).toBeGreaterThan(0);
  console.log(`safetensors fuzz: ${runs} cases, ${outcomes.loaded} loaded, ${outcomes.refused} refused`);
}, timeout);
