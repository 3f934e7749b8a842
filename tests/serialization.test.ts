// Serialization in PyTorch's formats: state dicts with nn.Sequential's names and out×in
// weights, and safetensors files — checked by a parser written here, loaded from bytes
// laid out by hand as safetensors.torch.save_file writes them, and refused whole (the
// model untouched) when anything in them is wrong.
import { beforeAll, describe, expect, test, vi } from 'vitest';
import {
  init, Linear, loadSafetensors, loadStateDict, ReLU, saveSafetensors, Sequential, stateDict, Tanh, type StateDict,
} from '../dist/index.js';
import { initOptions, randomArray } from './support.js';

beforeAll(() => init(initOptions));

/** A copy of the float32 bit patterns, so comparisons see NaN payloads and -0 exactly. */
const bitsOf = (values: Float32Array) => new Uint32Array(values.buffer, values.byteOffset, values.length).slice();

/** Every parameter's bits by name (as base64, which compares fast): what a refused load must leave as it was. */
const snapshot = (model: Sequential) => Object.fromEntries(
  model.namedParameters().map(({ name, parameter }) => [name, Buffer.from(bitsOf(parameter.value).buffer).toString('base64')]),
);

function expectRejected(model: Sequential, load: () => void, message: string | RegExp): void {
  const before = snapshot(model);
  expect(load).toThrow(message);
  expect(snapshot(model)).toEqual(before);
}

const mlp = (seed: number) => new Sequential([new Linear(784, 128, { seed, activation: 'relu' }), new Linear(128, 10, { seed: seed + 1 })]);
/** Standalone activations take indices, as in nn.Sequential (0, 2, 4); layer 2 has no bias. */
const mixed = (seed: number) => new Sequential([
  new Linear(5, 6, { seed }), new ReLU(), new Linear(6, 4, { seed: seed + 1, bias: false }), new Tanh(), new Linear(4, 3, { seed: seed + 2 }),
]);

/** What PyTorch's state_dict() holds for the model, read off its Linear layers. */
function torchTensors(model: Sequential): Record<string, { shape: number[]; values: Float32Array }> {
  const tensors: Record<string, { shape: number[]; values: Float32Array }> = {};
  model.layers.forEach((layer, i) => {
    if (!(layer instanceof Linear)) return;
    const { inFeatures: din, outFeatures: dout, weight, bias } = layer;
    const outByIn = new Float32Array(dout * din);
    for (let o = 0; o < dout; o++) for (let j = 0; j < din; j++) outByIn[o * din + j] = weight[j * dout + o];
    tensors[`${i}.weight`] = { shape: [dout, din], values: outByIn };
    if (bias) tensors[`${i}.bias`] = { shape: [dout], values: bias.slice() };
  });
  return tensors;
}

interface TensorInfo { dtype: string; shape: number[]; data_offsets: [number, number] }

/** Reads a safetensors file from the format's definition alone, not with the library's reader. */
function parseFile(file: Uint8Array) {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const text = new TextDecoder().decode(file.subarray(8, 8 + headerLength));
  const dataStart = 8 + headerLength;
  const float32s = ([begin, end]: [number, number]) =>
    Float32Array.from({ length: (end - begin) / 4 }, (_, i) => view.getFloat32(dataStart + begin + 4 * i, true));
  return { headerLength, text, header: JSON.parse(text) as Record<string, unknown>, dataLength: file.length - dataStart, float32s };
}

const hex = (digits: string) => Uint8Array.from(digits.replace(/\s+/g, '').match(/../g) ?? [], (pair) => parseInt(pair, 16));
const ascii = (text: string) => new TextEncoder().encode(text);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  parts.reduce((at, part) => (out.set(part, at), at + part.length), 0);
  return out;
};

/** A file laid out as the reference writes one: u64 LE header length, header padded with spaces to 8 bytes, data. */
function fileOf(header: string | object, data: Uint8Array | number): Uint8Array {
  const json = ascii(typeof header === 'string' ? header : JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(padded), true);
  return concat(length, json, ascii(' '.repeat(padded - json.length)), typeof data === 'number' ? new Uint8Array(data) : data);
}

/**
 * The bytes of safetensors.torch.save_file({"0.weight": torch.tensor([[1, 2, 3], [4, 5, 6]],
 * dtype=torch.float32), "0.bias": torch.tensor([0.5, -0.5])}): header length 128, the header
 * with the tensors sorted by dtype then name and 6 spaces of padding, then the data in that order.
 */
const golden = concat(
  hex('80 00 00 00 00 00 00 00'),
  ascii('{"0.bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[8,32]}}      '),
  hex('0000003f 000000bf'), // 0.5, -0.5
  hex('0000803f 00000040 00004040 00008040 0000a040 0000c040'), // 1 … 6, row-major out×in
);

/** The golden file's header with offsets [0, 2·size, 8·size]: its tensors in another dtype. */
const goldenHeader = (dtype: string, size: number, bias = [0, 2 * size], weight = [2 * size, 8 * size], shape = [2, 3]) => ({
  '0.bias': { dtype, shape: [2], data_offsets: bias },
  '0.weight': { dtype, shape, data_offsets: weight },
});

/** A model for the golden file, and its layer. */
function goldenModel() {
  const layer = new Linear(3, 2, { seed: 5 });
  return { layer, model: new Sequential([layer]) };
}

describe('safetensors round trip', () => {
  test.each([['Linear 784→128 relu, Linear 128→10', mlp, 784], ['Linear, ReLU, bias-free Linear, Tanh, Linear', mixed, 5]] as const)(
    '%s: loaded into a differently seeded model, bit-identical',
    (_, make, inFeatures) => {
      const source = make(1), target = make(100);
      expect(snapshot(target)).not.toEqual(snapshot(source));
      loadSafetensors(target, saveSafetensors(source));
      expect(snapshot(target)).toEqual(snapshot(source));
      const x = randomArray(3 * inFeatures, 7);
      expect(target.forward(x)).toEqual(source.forward(x));
    },
  );

  test('the file is safetensors by the format definition, in PyTorch layout', () => {
    const model = mixed(1);
    const { headerLength, text, header, dataLength, float32s } = parseFile(saveSafetensors(model, { format: 'pt' }));
    expect(headerLength % 8).toBe(0);
    expect(text).toMatch(/^\{.*\} {0,7}$/); // JSON, then at most 7 spaces of padding
    // The reference writer's order: metadata first, then tensors by name (all F32).
    expect(Object.keys(header)).toEqual(['__metadata__', '0.bias', '0.weight', '2.weight', '4.bias', '4.weight']);
    const { __metadata__, ...rest } = header;
    expect(__metadata__).toEqual({ format: 'pt' });
    const entries = rest as Record<string, TensorInfo>;
    const want = torchTensors(model);
    expect(Object.keys(entries).sort()).toEqual(Object.keys(want).sort());
    // In offset order the tensors tile the data, from 0 to its end.
    const spans = Object.values(entries).map((info) => info.data_offsets).sort((a, b) => a[0] - b[0]);
    expect(spans.reduce((at, [begin, end]) => (expect(begin).toBe(at), end), 0)).toBe(dataLength);
    for (const [name, { shape, values }] of Object.entries(want)) {
      expect(entries[name].dtype, name).toBe('F32');
      expect(entries[name].shape, name).toEqual(shape);
      expect(float32s(entries[name].data_offsets), name).toEqual(values);
    }
  });

  test('metadata must be strings; a disposed model is refused', () => {
    const model = mixed(1);
    expect(() => saveSafetensors(model, { epochs: 3 } as never)).toThrow(
      'saveSafetensors: metadata must be an object whose values are strings; got an object ([object Object])',
    );
    model.dispose();
    expect(() => saveSafetensors(model)).toThrow(/this Sequential model was disposed/);
    expect(() => loadSafetensors(model, golden)).toThrow(/this Sequential model was disposed/);
  });
});

describe('a file written by PyTorch', () => {
  const expectGoldenValues = (layer: Linear) => {
    expect(Array.from(layer.weight)).toEqual([1, 4, 2, 5, 3, 6]); // [[1, 4], [2, 5], [3, 6]], in×out
    expect(Array.from(layer.bias!)).toEqual([0.5, -0.5]);
  };

  test.each([
    ['F32', golden],
    ['F16', fileOf(goldenHeader('F16', 2), hex('0038 00b8  003c 0040 0042 0044 0045 0046'))],
    ['BF16', fileOf(goldenHeader('BF16', 2), hex('003f 00bf  803f 0040 4040 8040 a040 c040'))],
  ])('%s loads, the weight transposed to in×out', (_, file) => {
    const { layer, model } = goldenModel();
    loadSafetensors(model, file);
    expectGoldenValues(layer);
  });

  test('saveSafetensors writes the same bytes, and the helper lays files out the same way', () => {
    const { layer, model } = goldenModel();
    layer.weight.set([1, 4, 2, 5, 3, 6]);
    layer.bias!.set([0.5, -0.5]);
    expect(saveSafetensors(model)).toEqual(golden);
    expect(fileOf(goldenHeader('F32', 4), golden.subarray(136))).toEqual(golden);
  });

  test('tensors in any order, metadata, an ArrayBuffer or an unaligned view all load', () => {
    const [bias, weight] = [golden.subarray(136, 144), golden.subarray(144)];
    const files = [
      fileOf({ '0.weight': { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] }, '0.bias': { dtype: 'F32', shape: [2], data_offsets: [24, 32] } }, concat(weight, bias)),
      fileOf(goldenHeader('F32', 4, [24, 32], [0, 24]), concat(weight, bias)),
      fileOf({ __metadata__: { format: 'pt' }, ...goldenHeader('F32', 4) }, golden.subarray(136)),
      golden.slice().buffer,
      concat(new Uint8Array(3), golden).subarray(3),
    ];
    for (const file of files) {
      const { layer, model } = goldenModel();
      loadSafetensors(model, file);
      expectGoldenValues(layer);
    }
  });

  test.each([['F64', 8], ['I32', 4], ['F8_E4M3', 1], ['f32', 4]] as const)('dtype %s is refused by name', (dtype, size) => {
    const { model } = goldenModel();
    expectRejected(model, () => loadSafetensors(model, fileOf(goldenHeader(dtype, size), 8 * size)), `loadSafetensors: tensor "0.bias" has dtype ${dtype}; only F32, F16 and BF16 can be loaded`);
  });
});

describe('F16 and BF16 convert exactly', () => {
  /** Every 16-bit pattern, loaded as the weight of Linear(1, 65536) (PyTorch shape [65536, 1]); its float32 bits. */
  function loadEvery(dtype: 'F16' | 'BF16'): Uint32Array {
    const layer = new Linear(1, 65536, { bias: false });
    const model = new Sequential([layer]);
    const data = new Uint8Array(2 * 65536);
    for (let h = 0; h < 65536; h++) new DataView(data.buffer).setUint16(2 * h, h, true);
    loadSafetensors(model, fileOf({ '0.weight': { dtype, shape: [65536, 1], data_offsets: [0, data.length] } }, data));
    const bits = bitsOf(layer.weight);
    model.dispose();
    return bits;
  }

  test('F16: every pattern, subnormals, ±0, ±inf and NaN payloads included', () => {
    const bits = loadEvery('F16');
    const values = new Float32Array(bits.buffer);
    const bad: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const sign = h & 0x8000 ? -1 : 1, exponent = (h >> 10) & 31, fraction = h & 1023;
      // IEEE 754 binary16: subnormal fraction·2⁻²⁴, normal (1 + fraction/1024)·2^(exponent − 15).
      const want = exponent === 31 ? (fraction ? NaN : sign * Infinity)
        : sign * (exponent ? (1 + fraction / 1024) * 2 ** (exponent - 15) : fraction * 2 ** -24);
      if (!Object.is(values[h], want)) bad.push(`0x${h.toString(16)}: got ${values[h]}, want ${want}`);
      // A NaN keeps its sign and payload, quiet bit included, at the top of the float32 fraction.
      const nan = (((h & 0x8000) << 16) | 0x7f800000 | (fraction << 13)) >>> 0;
      if (Number.isNaN(want) && bits[h] !== nan) bad.push(`0x${h.toString(16)}: bits 0x${bits[h].toString(16)}, want 0x${nan.toString(16)}`);
    }
    expect(bad.slice(0, 5)).toEqual([]);
    expect([values[0x3c00], values[0x0001], values[0x03ff], values[0x0400], values[0x7bff], values[0xfc00]])
      .toEqual([1, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 65504, -Infinity]);
  });

  test('BF16: every pattern is the upper half of its float32', () => {
    const bits = loadEvery('BF16');
    const bad = Array.from(bits.keys()).filter((h) => bits[h] !== (h << 16) >>> 0);
    expect(bad.slice(0, 5)).toEqual([]);
    const values = new Float32Array(bits.buffer);
    expect([values[0x3f80], values[0x0001], values[0x7f80], values[0x8000]]).toEqual([1, 2 ** -133, Infinity, -0]);
  });
});

describe('a bad file is refused whole, the model unchanged', () => {
  const withLength = (length: bigint) => {
    const file = golden.slice();
    new DataView(file.buffer).setBigUint64(0, length, true);
    return file;
  };
  const f32 = (shape: number[], offsets: number[]) => ({ dtype: 'F32', shape, data_offsets: offsets });

  test.each([
    ['shorter than the length field', golden.subarray(0, 5), 'loadSafetensors: a safetensors file starts with an 8-byte header length; got only 5 bytes'],
    ['cut in the header', golden.subarray(0, 100), 'loadSafetensors: the header length 128 runs past the end of the file (92 bytes follow it); the file is corrupt or not safetensors'],
    ['cut in the data', golden.subarray(0, golden.length - 4), 'loadSafetensors: tensor "0.weight" has data_offsets [8, 32], past the end of the 28 data bytes; the file is truncated or corrupt'],
    ['header length beyond the buffer', withLength(1000n), /the header length 1000 runs past the end of the file \(160 bytes follow it\)/],
    ['header length beyond any sane size', withLength(2n ** 64n - 1n), /the header length 18446744073709551615 exceeds the limit of 100000000 bytes/],
    ['header not UTF-8', concat(hex('08 00 00 00 00 00 00 00'), hex('7b ff 7d 20 20 20 20 20')), 'loadSafetensors: the header is not valid UTF-8'],
    ['header not JSON', fileOf('{"0.bias": {', 32), /loadSafetensors: the header is not valid JSON \(/],
    ['header not an object', fileOf('[]', 0), 'loadSafetensors: the header must be a JSON object; got an Array of length 0'],
    ['tensor info not an object', fileOf({ '0.bias': [0, 8] }, 8), 'loadSafetensors: tensor "0.bias" must be an object with dtype, shape and data_offsets; got an Array of length 2'],
    ['dtype not a string', fileOf({ '0.bias': { ...f32([2], [0, 8]), dtype: 4 } }, 8), 'loadSafetensors: tensor "0.bias": dtype must be a string such as "F32"; got 4'],
    ['shape not integers', fileOf({ '0.bias': f32([2.5], [0, 8]) }, 8), 'loadSafetensors: tensor "0.bias": shape must be an array of non-negative integers; got [2.5]'],
    ['data_offsets missing', fileOf({ '0.bias': { dtype: 'F32', shape: [2] } }, 8), 'loadSafetensors: tensor "0.bias": data_offsets must be [begin, end], two non-negative integers; got undefined'],
    ['metadata not strings', fileOf({ __metadata__: { epochs: 3 }, ...goldenHeader('F32', 4) }, 32), /__metadata__ in the header must map strings to strings/],
    ['a missing key', fileOf({ '0.weight': f32([2, 3], [0, 24]) }, 24), 'loadSafetensors: the keys must be the model\'s parameters "0.weight", "0.bias"; missing "0.bias"'],
    ['an extra key', fileOf({ ...goldenHeader('F32', 4), '1.weight': f32([1], [32, 36]) }, 36), /the keys must be the model's parameters "0.weight", "0.bias"; unexpected "1.weight"$/],
    ['a weight in our in×out shape', fileOf(goldenHeader('F32', 4, [0, 8], [8, 32], [3, 2]), 32), 'loadSafetensors: "0.weight" must have shape [2, 3] (PyTorch\'s layout: out×in); got [3, 2]'],
    ['offsets past the data', fileOf(goldenHeader('F32', 4, [0, 8], [8, 40]), 32), /"0.weight" has data_offsets \[8, 40\], past the end of the 32 data bytes/],
    ['overlapping offsets', fileOf(goldenHeader('F32', 4, [0, 8], [4, 28]), 28), 'loadSafetensors: tensor "0.weight" has data_offsets [4, 28], overlapping tensor "0.bias", which ends at 8'],
    ['offsets leaving a gap', fileOf(goldenHeader('F32', 4, [0, 8], [12, 36]), 36), /"0.weight" has data_offsets \[12, 36\], leaving bytes 8–12 unused/],
    ['bytes after the last tensor', fileOf(goldenHeader('F32', 4), 40), 'loadSafetensors: the tensors cover 32 of the 40 data bytes; the rest belongs to none'],
    ['offsets ending before they begin', fileOf(goldenHeader('F32', 4, [8, 0]), 32), /"0.bias" has data_offsets \[8, 0\], which end before they begin/],
    ['offsets not the shape\'s size', fileOf(goldenHeader('F32', 4, [0, 8], [8, 28]), 28), /"0.weight" has data_offsets \[8, 28\], 20 bytes; shape \[2, 3\] of F32 needs 24/],
  ])('%s', (_, file, message) => {
    const { model } = goldenModel();
    expectRejected(model, () => loadSafetensors(model, file), message);
  });

  test('a file of another architecture, or no bytes at all', () => {
    const model = mlp(1);
    expectRejected(model, () => loadSafetensors(model, saveSafetensors(mixed(2))), /missing "1.weight", "1.bias"; unexpected "2.weight", "4.bias", "4.weight"$/);
    expectRejected(model, () => loadSafetensors(model, [1, 2, 3] as never), 'loadSafetensors: bytes must be a Uint8Array or an ArrayBuffer; got an Array of length 3');
  });
});

describe('stateDict and loadStateDict', () => {
  test('PyTorch names, shapes and out×in values, as copies', () => {
    const model = mixed(1);
    const state = stateDict(model);
    expect(Object.keys(state)).toEqual(['0.weight', '0.bias', '2.weight', '4.weight', '4.bias']);
    for (const [name, { shape, values }] of Object.entries(torchTensors(model))) {
      expect(state[name].shape, name).toEqual(shape);
      expect(state[name].data, name).toEqual(values);
    }
    state['0.weight'].data.fill(7);
    expect((model.layers[0] as Linear).weight.includes(7)).toBe(false);
    expect(model.stateDict()).toEqual(stateDict(model));
  });

  test('round trip into a differently seeded model is bit-identical', () => {
    const source = mixed(1), target = mixed(50);
    expect(snapshot(target)).not.toEqual(snapshot(source));
    target.loadStateDict(source.stateDict());
    expect(snapshot(target)).toEqual(snapshot(source));
    const x = randomArray(4 * 5, 3);
    expect(target.forward(x)).toEqual(source.forward(x));
  });

  test('a state viewing the model\'s own memory loads as if copied first', () => {
    const a = new Linear(4, 4, { bias: false, seed: 2 }), b = new Linear(4, 4, { bias: false, seed: 3 });
    const [aBefore, bBefore] = [a.weight.slice(), b.weight.slice()];
    // Each layer gets the other's weight read as out×in, so transposed: both must be read before either is written.
    loadStateDict(new Sequential([a, b]), { '0.weight': { shape: [4, 4], data: b.weight }, '1.weight': { shape: [4, 4], data: a.weight } });
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        expect(a.weight[i * 4 + j]).toBe(bBefore[j * 4 + i]);
        expect(b.weight[i * 4 + j]).toBe(aBefore[j * 4 + i]);
      }
    }
  });

  // Each fault is in the last parameter, so a loader that wrote as it checked would have changed the others.
  test.each([
    ['a missing key', (s: StateDict) => { delete s['4.bias']; }, 'loadStateDict: the keys must be the model\'s parameters "0.weight", "0.bias", "2.weight", "4.weight", "4.bias"; missing "4.bias"'],
    ['an extra key', (s: StateDict) => { s['2.bias'] = { shape: [4], data: new Float32Array(4) }; }, /; unexpected "2.bias"$/],
    ['a weight in our in×out shape', (s: StateDict) => { s['4.weight'] = { shape: [4, 3], data: new Float32Array(12) }; }, 'loadStateDict: "4.weight" must have shape [3, 4] (PyTorch\'s layout: out×in); got [4, 3]'],
    ['a bias of the wrong rank', (s: StateDict) => { s['4.bias'].shape = [3, 1]; }, 'loadStateDict: "4.bias" must have shape [3] (PyTorch\'s layout); got [3, 1]'],
    ['a shape not an array', (s: StateDict) => { s['4.bias'].shape = '3' as never; }, 'loadStateDict: "4.bias" must have shape [3] (PyTorch\'s layout); got the string "3"'],
    ['data too short', (s: StateDict) => { s['4.bias'].data = new Float32Array(2); }, 'loadStateDict: "4.bias".data must be a Float32Array of length 3 (shape [3]); got a Float32Array of length 2'],
    ['data of float64', (s: StateDict) => { s['4.bias'].data = new Float64Array(3) as never; }, /"4.bias".data must be a Float32Array of length 3 \(shape \[3\]\); got a Float64Array of length 3/],
    ['an entry that is null', (s: StateDict) => { s['4.bias'] = null as never; }, 'loadStateDict: "4.bias" must be an object { shape, data }; got null'],
  ])('%s is refused, the model unchanged', (_, spoil, message) => {
    const model = mixed(1);
    const state = stateDict(mixed(2));
    spoil(state);
    expectRejected(model, () => model.loadStateDict(state), message);
  });

  test('a state or model of the wrong kind', () => {
    const model = mixed(1);
    expectRejected(model, () => loadStateDict(model, null as never), 'loadStateDict: the state must be an object of { shape, data } by name; got null');
    expect(() => stateDict({} as never)).toThrow('stateDict: model must be a Sequential; got an object ([object Object])');
  });
});

describe('names are data: an extra key is an error whatever it is called', () => {
  // Names an object inherits from Object.prototype; a lookup on a plain object would find them, or set its prototype.
  const inherited = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];
  /** The golden header's JSON with one more member, written as text so that `name` stays an own key. */
  const withExtra = (name: string, info: object) => `${JSON.stringify(goldenHeader('F32', 4)).slice(0, -1)},${JSON.stringify(name)}:${JSON.stringify(info)}}`;

  test.each(inherited)('a safetensors file with an extra tensor %s is refused', (name) => {
    const { model } = goldenModel();
    const file = fileOf(withExtra(name, { dtype: 'F32', shape: [1], data_offsets: [32, 36] }), concat(golden.subarray(136), hex('0000803f')));
    expectRejected(model, () => loadSafetensors(model, file), `loadSafetensors: the keys must be the model's parameters "0.weight", "0.bias"; unexpected ${JSON.stringify(name)}`);
  });

  test.each(inherited)('a safetensors file naming a tensor %s in place of "0.bias" is refused', (name) => {
    const { model } = goldenModel();
    const header = `{${JSON.stringify(name)}:{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[8,32]}}`;
    expectRejected(model, () => loadSafetensors(model, fileOf(header, golden.subarray(136))),
      `loadSafetensors: the keys must be the model's parameters "0.weight", "0.bias"; missing "0.bias"; unexpected ${JSON.stringify(name)}`);
  });

  test('__metadata__ with an own __proto__ key must still map strings to strings', () => {
    const { model } = goldenModel();
    const header = `{"__metadata__":{"__proto__":{"format":"pt"}},${JSON.stringify(goldenHeader('F32', 4)).slice(1)}`;
    expectRejected(model, () => loadSafetensors(model, fileOf(header, golden.subarray(136))), /__metadata__ in the header must map strings to strings/);
  });

  test.each(inherited)('a state dict with an own key %s is refused', (name) => {
    const model = mixed(1);
    const viaJson = JSON.parse(`{${JSON.stringify(name)}:{"shape":[1],"data":null}}`) as StateDict;
    const viaDefine = {} as StateDict;
    Object.defineProperty(viaJson, '0.weight', { value: stateDict(model)['0.weight'], enumerable: true });
    for (const [key, entry] of Object.entries(stateDict(mixed(2)))) Object.defineProperty(viaDefine, key, { value: entry, enumerable: true });
    Object.defineProperty(viaDefine, name, { value: { shape: [1], data: new Float32Array(1) }, enumerable: true });
    expectRejected(model, () => loadStateDict(model, viaJson), new RegExp(`^loadStateDict: the keys .*; unexpected ${JSON.stringify(name)}$`));
    expectRejected(model, () => loadStateDict(model, viaDefine), new RegExp(`^loadStateDict: the keys .*; unexpected ${JSON.stringify(name)}$`));
  });
});

describe('bytes that cannot be read are refused by name, never with an engine message', () => {
  /** `value` with its ArrayBuffer transferred away, as postMessage or structuredClone leave it. */
  function detached<T extends ArrayBuffer | Uint8Array>(value: T): T {
    const buffer = value instanceof ArrayBuffer ? value : value.buffer;
    structuredClone(buffer, { transfer: [buffer as ArrayBuffer] });
    return value;
  }
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();

  test.each([
    ['a detached ArrayBuffer', () => detached(golden.slice().buffer), 'loadSafetensors: bytes must be a Uint8Array or an ArrayBuffer; got a detached ArrayBuffer'],
    ['a Uint8Array of a detached ArrayBuffer', () => detached(golden.slice()), "loadSafetensors: bytes must be a Uint8Array or an ArrayBuffer; got a Uint8Array whose ArrayBuffer was detached (transferred away, or a view taken before the module's memory grew: take it again)"],
    ['an object tagged as a Uint8Array', () => ({ [Symbol.toStringTag]: 'Uint8Array', length: 160 }), 'loadSafetensors: bytes must be a Uint8Array or an ArrayBuffer; got an object ([object Uint8Array])'],
    ['an object tagged as an ArrayBuffer', () => ({ [Symbol.toStringTag]: 'ArrayBuffer', byteLength: 160 }), 'loadSafetensors: bytes must be a Uint8Array or an ArrayBuffer; got an object ([object ArrayBuffer])'],
    ['an object on Uint8Array.prototype', () => Object.create(Uint8Array.prototype), 'loadSafetensors: bytes must be a Uint8Array or an ArrayBuffer; got an object ([object Object])'],
    ['a revoked Proxy', () => revoked, /^loadSafetensors: bytes must be a Uint8Array or an ArrayBuffer; got an object that cannot be inspected/],
    ['a Proxy of a Uint8Array', () => new Proxy(golden.slice(), {}), /^loadSafetensors: bytes must be a Uint8Array or an ArrayBuffer; got /],
    ['a SharedArrayBuffer', () => new SharedArrayBuffer(160), 'loadSafetensors: bytes must be a Uint8Array or an ArrayBuffer; got a SharedArrayBuffer of 160 bytes'],
    ['a DataView', () => new DataView(golden.slice().buffer), 'loadSafetensors: bytes must be a Uint8Array or an ArrayBuffer; got a DataView of 168 bytes'],
    ['a Float32Array', () => new Float32Array(40), 'loadSafetensors: bytes must be a Uint8Array or an ArrayBuffer; got a Float32Array of length 40'],
  ] as const)('%s', (_, bytes, message) => {
    const { model } = goldenModel();
    const before = snapshot(model);
    let thrown: unknown;
    try {
      loadSafetensors(model, bytes() as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).toMatch(typeof message === 'string' ? new RegExp(`^${message.replace(/[[\]().*+?^$|\\]/g, '\\$&')}$`) : message);
    expect(snapshot(model)).toEqual(before);
  });

  test('a model that cannot be inspected is refused by name', () => {
    for (const load of [() => loadSafetensors(revoked as never, golden), () => loadStateDict(revoked as never, {})]) {
      expect(load).toThrow(/^(loadSafetensors|loadStateDict): model must be a Sequential; got an object that cannot be inspected/);
    }
  });

  test('a description that would be huge is cut short', () => {
    const { model } = goldenModel();
    for (const bytes of [{ [Symbol.toStringTag]: 'x'.repeat(1e6) }, 'x'.repeat(1e6)]) {
      expect(() => loadSafetensors(model, bytes as never)).toThrow(/^loadSafetensors: bytes must be a Uint8Array or an ArrayBuffer; got /);
      try { loadSafetensors(model, bytes as never); } catch (error) { expect((error as Error).message.length).toBeLessThanOrEqual(1024); }
    }
  });

  test('a Uint8Array whose length, byteOffset and buffer getters lie is read by what it really holds', () => {
    class Lying extends Uint8Array {
      override get length() { return 1e9; }
      override get byteLength() { return 0; }
      override get byteOffset() { return 3; }
    }
    const { layer, model } = goldenModel();
    loadSafetensors(model, new Lying(golden));
    expect(Array.from(layer.weight)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(layer.bias!)).toEqual([0.5, -0.5]);
  });

  test('state dict data that is not really a Float32Array is refused by name', () => {
    const model = mixed(1);
    const state = stateDict(mixed(2));
    state['4.bias'].data = Object.create(Float32Array.prototype);
    expectRejected(model, () => loadStateDict(model, state), 'loadStateDict: "4.bias".data must be a Float32Array of length 3 (shape [3]); got an object ([object Object])');
    const { proxy, revoke: revokeData } = Proxy.revocable(new Float32Array(3), {});
    revokeData();
    state['4.bias'].data = proxy;
    expectRejected(model, () => loadStateDict(model, state), /^loadStateDict: "4\.bias"\.data must be a Float32Array of length 3 \(shape \[3\]\); got an object that cannot be inspected/);
  });
});

describe('error messages stay short, and huge headers are refused quickly', () => {
  const expectShortRefusal = (model: Sequential, load: () => void, message: RegExp) => {
    const before = snapshot(model);
    let thrown: unknown;
    try { load(); } catch (error) { thrown = error; }
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message.length).toBeLessThanOrEqual(1024);
    expect(snapshot(model)).toEqual(before);
  };

  /**
   * A header listing `count` empty F32 tensors "t0000000", "t0000001", …, all at [0, 0] (a valid layout), written
   * byte by byte from one template: building it as a string would take longer than refusing it should.
   */
  function manyTensors(count: number): Uint8Array {
    const member = ascii('"t0000000":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},');
    const jsonLength = 1 + count * member.length; // "{", the members; the last comma becomes "}"
    const headerLength = Math.ceil(jsonLength / 8) * 8;
    const file = new Uint8Array(8 + headerLength).fill(0x20);
    new DataView(file.buffer).setBigUint64(0, BigInt(headerLength), true);
    file[8] = 0x7b;
    for (let i = 0, at = 9; i < count; i++, at += member.length) {
      file.set(member, at);
      for (let digit = 7, n = i; digit >= 1; digit--, n = Math.floor(n / 10)) file[at + 1 + digit] = 0x30 + (n % 10);
    }
    file[8 + jsonLength - 1] = 0x7d;
    return file;
  }

  test('a header listing 10⁶ tensors is refused before it is parsed, quoting a few names', () => {
    const { model } = goldenModel();
    const file = manyTensors(1e6);
    // Not timed (the machine is shared): the keys are counted by one scan, and JSON.parse never builds the 10⁶
    // entries; it decodes only the few names the message quotes.
    const parse = vi.spyOn(JSON, 'parse');
    expectShortRefusal(model, () => loadSafetensors(model, file), /^loadSafetensors: the header lists 1000000 entries, more than the model's 2 parameters and __metadata__: "t0000000", "t0000001", "t0000002", "t0000003", "t0000004", … and 999995 more/);
    expect(parse.mock.calls.length).toBeLessThanOrEqual(5);
    expect(parse.mock.calls.every(([text]) => String(text).length < 100)).toBe(true);
    parse.mockRestore();
  });

  test('long names, many names and long shapes or offsets are quoted in part', () => {
    const { model } = goldenModel();
    const long = 'x'.repeat(1e5);
    const f32 = (shape: unknown, offsets: unknown) => ({ dtype: 'F32', shape, data_offsets: offsets });
    const files: [Uint8Array, RegExp][] = [
      [fileOf({ [long]: f32([2], [0, 8]), '0.weight': f32([2, 3], [8, 32]) }, 32), /unexpected "x{20,}…/],
      [fileOf({ [`${long}a`]: f32([2], [0, 8]), [`${long}b`]: f32([2, 3], [8, 32]) }, 32), /missing "0.weight", "0.bias"; unexpected "x+…/],
      [fileOf({ '0.bias': f32(Array(1e5).fill(1.5), [0, 8]) }, 8), /shape must be an array of non-negative integers; got \[1\.5,1\.5/],
      [fileOf({ '0.bias': f32([2], Array(1e5).fill(-1)) }, 8), /data_offsets must be \[begin, end\]/],
      [fileOf({ '0.bias': { ...f32([2], [0, 8]), dtype: long } }, 8), /has dtype x+…/],
      [fileOf({ ...goldenHeader('F32', 4, [0, 8], [8, 32], Array(1e5).fill(1)) }, 32), /"0.weight" has data_offsets \[8, 32\], 24 bytes; shape \[1, 1,/],
      [fileOf(`{"0.bias": ${'['.repeat(1e5)}`, 8), /the header is not valid JSON/],
    ];
    for (const [file, message] of files) expectShortRefusal(model, () => loadSafetensors(model, file), message);
  });

  test('a state dict with many or long unexpected keys, or a long shape, is quoted in part', () => {
    const model = mixed(1);
    const many = stateDict(mixed(2)) as Record<string, unknown>;
    for (let i = 0; i < 1e4; i++) many[`extra.${i}`] = { shape: [1], data: new Float32Array(1) };
    expectShortRefusal(model, () => loadStateDict(model, many as StateDict), /unexpected "extra.0", "extra.1", "extra.2", "extra.3", "extra.4", … and 9995 more$/);
    const long = stateDict(mixed(2)) as Record<string, unknown>;
    long['y'.repeat(1e5)] = { shape: [1], data: new Float32Array(1) };
    expectShortRefusal(model, () => loadStateDict(model, long as StateDict), /unexpected "y+…/);
    const shaped = stateDict(mixed(2));
    shaped['4.bias'].shape = Array(1e5).fill(3);
    expectShortRefusal(model, () => loadStateDict(model, shaped), /"4.bias" must have shape \[3\] \(PyTorch's layout\); got \[3, 3, 3/);
  });
});

describe('names inside nested models and layers of your own', () => {
  /** A layer of the user's own wrapping two Linears, naming them as PyTorch names a module's attributes (or not). */
  class Pair {
    readonly a = new Linear(4, 3, { seed: 1 });
    readonly b = new Linear(3, 2, { seed: 2 });
    constructor(readonly named: boolean) {}
    forward(x: Float32Array, batch: number) { return this.b.forward(this.a.forward(x, batch), batch); }
    backward(dy: Float32Array) { return this.a.backward(this.b.backward(dy)); }
    parameters() { return [...this.a.parameters(), ...this.b.parameters()]; }
    namedParameters?: () => { name: string; parameter: ReturnType<Linear['parameters']>[number] }[];
    dispose() { this.a.dispose(); this.b.dispose(); }
  }
  const pair = (named: boolean) => {
    const layer = new Pair(named);
    if (named) layer.namedParameters = () => [...layer.a.parameters().map((parameter) => ({ name: `a.${parameter.name}`, parameter })), ...layer.b.parameters().map((parameter) => ({ name: `b.${parameter.name}`, parameter }))];
    return layer;
  };

  test("a nested Sequential's parameters are named by their path, as PyTorch's: they save and load unchanged", () => {
    const model = new Sequential([new Linear(4, 4, { seed: 3 }), new Sequential([new Linear(4, 3, { seed: 4 }), new Tanh(), new Linear(3, 2, { seed: 5 })])]);
    expect(model.namedParameters().map(({ name }) => name)).toEqual(['0.weight', '0.bias', '1.0.weight', '1.0.bias', '1.2.weight', '1.2.bias']);
    const before = snapshot(model);
    const file = saveSafetensors(model);
    const state = stateDict(model);
    for (const { parameter } of model.namedParameters()) parameter.value.fill(0);
    loadSafetensors(model, file);
    expect(snapshot(model)).toEqual(before);
    for (const { parameter } of model.namedParameters()) parameter.value.fill(0);
    loadStateDict(model, state);
    expect(snapshot(model)).toEqual(before);
    model.dispose();
  });

  test('a layer of your own with namedParameters() saves and loads under its names; without them, repeated names are an error', () => {
    const named = new Sequential([new Linear(4, 4, { seed: 6 }), pair(true)]);
    expect(named.namedParameters().map(({ name }) => name)).toEqual(['0.weight', '0.bias', '1.a.weight', '1.a.bias', '1.b.weight', '1.b.bias']);
    const before = snapshot(named);
    const file = saveSafetensors(named);
    for (const { parameter } of named.namedParameters()) parameter.value.fill(0);
    loadSafetensors(named, file);
    expect(snapshot(named)).toEqual(before);
    named.dispose();
    const unnamed = new Sequential([pair(false)]);
    const message = /Sequential\.parameters: layers\[0\] has two parameters named 'weight': give it namedParameters\(\) naming each/;
    for (const call of [() => stateDict(unnamed), () => saveSafetensors(unnamed), () => unnamed.parameters()]) expect(call).toThrow(message);
    unnamed.dispose();
  });

  test('namedParameters() that lies is refused by name', () => {
    const layer = pair(true);
    for (const bad of [null, [{ name: '', parameter: layer.a.parameters()[0] }], [{ name: 'w', parameter: {} }], [{ name: 3, parameter: layer.a.parameters()[0] }]]) {
      layer.namedParameters = () => bad as never;
      const model = new Sequential([layer]);
      expect(() => model.parameters()).toThrow(/Sequential\.parameters: layers\[0\]\.namedParameters\(\) must return \{ name, parameter \} entries/);
    }
    layer.dispose();
  });
});
