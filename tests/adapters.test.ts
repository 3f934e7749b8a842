// saveAdapters / loadAdapters / adapterConfig: the adapters alone, in the bytes PEFT writes
// for an nn.Sequential (golden bytes built here from the safetensors format's description),
// round trips, and strict, atomic loading.
import { readFileSync } from 'node:fs';
import { beforeAll, expect, test } from 'vitest';
import { adapterConfig, init, Linear, loadAdapters, loadSafetensors, LoRA, ReLU, saveAdapters, Sequential } from '../dist/index.js';
import { expectWithin, initOptions, randomArray } from './support.js';

beforeAll(() => init(initOptions));

/** Linear(3, 2) with an adapter of rank 1 at index 0, ReLU, and Linear(2, 4) with an adapter of rank 2 (alpha 4) at index 2. */
function model(seed: number) {
  const first = new Linear(3, 2, { seed }), last = new Linear(2, 4, { seed: seed + 1 });
  const a0 = new LoRA(first, { rank: 1, seed }), a2 = new LoRA(last, { rank: 2, alpha: 4, seed: seed + 1 });
  a0.loraB.set(randomArray(2, seed + 2));
  a2.loraB.set(randomArray(8, seed + 3));
  return { net: new Sequential([a0, new ReLU(), a2]), a0, a2, bases: [first, last] };
}

/** A safetensors file by hand: u64 header length, the JSON header padded with spaces to 8 bytes, then little-endian F32 data. */
function golden(tensors: [string, number[], Float32Array][], metadata: Record<string, string> | null = { format: 'pt' }): Uint8Array {
  let offset = 0;
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  for (const [name, shape, data] of tensors) {
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + 4 * data.length] };
    offset += 4 * data.length;
  }
  const json = JSON.stringify(header);
  const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
  const file = new Uint8Array(8 + padded.length + offset);
  const view = new DataView(file.buffer);
  view.setBigUint64(0, BigInt(padded.length), true);
  file.set(new TextEncoder().encode(padded), 8);
  let at = 8 + padded.length;
  for (const [, , data] of tensors) for (const v of data) { view.setFloat32(at, v, true); at += 4; }
  return file;
}

test('saveAdapters writes only the adapters, keyed and shaped as PEFT writes them, byte for byte', () => {
  const { net, a0, a2, bases } = model(1);
  const bytes = saveAdapters(net);
  expect(Array.from(bytes)).toEqual(Array.from(golden([
    ['base_model.model.0.lora_A.weight', [1, 3], a0.loraA.slice()],
    ['base_model.model.0.lora_B.weight', [2, 1], a0.loraB.slice()],
    ['base_model.model.2.lora_A.weight', [2, 2], a2.loraA.slice()],
    ['base_model.model.2.lora_B.weight', [4, 2], a2.loraB.slice()],
  ])));
  net.dispose();
  bases.forEach((b) => b.dispose());
});

test('adapterConfig gives the adapter_config.json PEFT reads: r, lora_alpha, the indices, patterns where layers differ', () => {
  const { net, bases } = model(2);
  expect(adapterConfig(net)).toMatchObject({
    peft_type: 'LORA', r: 1, lora_alpha: 1, target_modules: ['0', '2'], bias: 'none',
    rank_pattern: { 2: 2 }, alpha_pattern: { 2: 4 }, lora_dropout: 0, fan_in_fan_out: false, use_dora: false,
  });
  expect(JSON.parse(JSON.stringify(adapterConfig(net)))).toEqual(adapterConfig(net));
  net.dispose();
  bases.forEach((b) => b.dispose());
});

test('a round trip restores every adapter; the bases are not in the file and do not change', () => {
  const saved = model(3), fresh = model(4);
  const x = randomArray(5 * 3, 9);
  const want = saved.net.forward(x, 5).slice();
  const baseWeights = fresh.bases.map((b) => b.weight.slice());
  loadAdapters(fresh.net, saveAdapters(saved.net));
  expect(Array.from(fresh.a0.loraA)).toEqual(Array.from(saved.a0.loraA));
  expect(Array.from(fresh.a2.loraB)).toEqual(Array.from(saved.a2.loraB));
  fresh.bases.forEach((b, i) => expect(Array.from(b.weight)).toEqual(Array.from(baseWeights[i])));
  // Same adapters but other bases (seed 4): the output differs by the bases only.
  expect(fresh.net.forward(x, 5)).toHaveLength(want.length);
  for (const m of [saved, fresh]) { m.net.dispose(); m.bases.forEach((b) => b.dispose()); }
});

test('loading is strict and atomic: a wrong shape, a missing or extra key, a corrupt header change nothing', () => {
  const { net, a0, a2, bases } = model(5);
  const before = [a0.loraA.slice(), a0.loraB.slice(), a2.loraA.slice(), a2.loraB.slice()];
  const good = [
    ['base_model.model.0.lora_A.weight', [1, 3], new Float32Array(3).fill(7)],
    ['base_model.model.0.lora_B.weight', [2, 1], new Float32Array(2).fill(7)],
    ['base_model.model.2.lora_A.weight', [2, 2], new Float32Array(4).fill(7)],
    ['base_model.model.2.lora_B.weight', [4, 2], new Float32Array(8).fill(7)],
  ] as [string, number[], Float32Array][];
  const cases: [Uint8Array, RegExp][] = [
    [golden(good.map(([n, s, d], i) => (i === 3 ? [n, [2, 4], d] : [n, s, d]))), /loadAdapters: .*base_model\.model\.2\.lora_B\.weight.*shape/],
    [golden(good.slice(0, 3)), /loadAdapters: .*; missing "base_model\.model\.2\.l…_B\.weight" \(32 characters\)$/],
    [golden([...good, ['base_model.model.0.base_layer.weight', [2, 3], new Float32Array(6)]], null), /loadAdapters: .*; unexpected "base_model\.model\.0\.b…er\.weight" \(36 characters\)$/],
    [golden([...good, ['base_model.model.0.base_layer.weight', [2, 3], new Float32Array(6)]]), /loadAdapters: the header lists 6 entries, more than the model's 4 parameters and __metadata__/],
    [golden(good).slice(0, 20), /loadAdapters: /],
  ];
  for (const [bytes, message] of cases) {
    expect(() => loadAdapters(net, bytes)).toThrow(message);
    expect([a0.loraA, a0.loraB, a2.loraA, a2.loraB].map((t) => Array.from(t))).toEqual(before.map((t) => Array.from(t)));
  }
  loadAdapters(net, golden(good));
  expect(Array.from(a2.loraB)).toEqual(new Array(8).fill(7));
  net.dispose();
  bases.forEach((b) => b.dispose());
});

test('a model without adapters, or not a model: clear errors', () => {
  const plain = new Sequential([new Linear(2, 2)]);
  expect(() => saveAdapters(plain)).toThrow('saveAdapters: the model has no LoRA adapters');
  expect(() => adapterConfig(plain)).toThrow('adapterConfig: the model has no LoRA adapters');
  expect(() => loadAdapters({} as never, new Uint8Array(8))).toThrow(/loadAdapters: model must be a Sequential; got an object/);
  plain.dispose();
});

test("PEFT's own files (tests/fixtures/peft, written by PEFT 0.21): loaded here they give PEFT's output, and saved again they are the same bytes", () => {
  const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`./fixtures/peft/${name}`, import.meta.url)));
  const config = JSON.parse(new TextDecoder().decode(fixture('adapter_config.json')));
  const { x, y } = JSON.parse(new TextDecoder().decode(fixture('io.json'))) as { x: number[]; y: number[] };
  const base = new Sequential([new Linear(6, 5), new ReLU(), new Linear(5, 3)]);
  loadSafetensors(base, fixture('base.safetensors'));
  const layers = base.layers.map((layer, i) => (config.target_modules.includes(String(i))
    ? new LoRA(layer as Linear, { rank: config.r, alpha: config.lora_alpha }) : layer));
  const model = new Sequential(layers);
  const file = fixture('adapter_model.safetensors');
  loadAdapters(model, file);
  const got = model.forward(Float32Array.from(x), 4);
  expectWithin(got, y, y.map((v) => 1e-6 * Math.max(1, Math.abs(v))), 'PEFT output');
  expect(Array.from(saveAdapters(model))).toEqual(Array.from(file));
  expect(adapterConfig(model)).toMatchObject({ peft_type: 'LORA', r: config.r, lora_alpha: config.lora_alpha, bias: config.bias });
  expect([...adapterConfig(model).target_modules].sort()).toEqual([...config.target_modules].sort());
  model.dispose();
});

/** PEFT's matching, transcribed: check_target_module_exists (peft/tuners/tuners_utils.py) and get_pattern_key (peft/utils/other.py). */
const peftTargets = (target: string[] | string, key: string) => (typeof target === 'string'
  ? new RegExp(`^(?:${target})$`).test(key) : target.includes(key) || target.some((t) => key.endsWith(`.${t}`)));
const peftPatternKey = (keys: string[], key: string) => keys.find((k) => new RegExp(`^(.*\\.)?(${k})$`).test(key)) ?? key;

test('in a nested model, the config makes PEFT select exactly the adapted modules, each at its rank (a listed 1 would also be 0.1)', () => {
  const inner = new Sequential([new LoRA(new Linear(4, 4, { seed: 1 }), { rank: 2 }), new LoRA(new Linear(4, 4, { seed: 2 }), { rank: 2 }), new ReLU()]);
  const nested = new Sequential([inner, new LoRA(new Linear(4, 4, { seed: 3 }), { rank: 4, alpha: 8 }), new Sequential([new Linear(4, 4, { seed: 4 }), new ReLU()])]);
  const modules = (layers: readonly unknown[], prefix: string): string[] => layers.flatMap((layer, i) => [`${prefix}${i}`,
    ...(layer instanceof Sequential ? modules(layer.layers, `${prefix}${i}.`) : [])]);
  const config = adapterConfig(nested);
  expect(modules(nested.layers, '').filter((key) => peftTargets(config.target_modules, key))).toEqual(['0.0', '0.1', '1']);
  const rankOf = (key: string) => config.rank_pattern[peftPatternKey(Object.keys(config.rank_pattern), key)] ?? config.r;
  const alphaOf = (key: string) => config.alpha_pattern[peftPatternKey(Object.keys(config.alpha_pattern), key)] ?? config.lora_alpha;
  expect(['0.0', '0.1', '1'].map((key) => [rankOf(key), alphaOf(key)])).toEqual([[2, 2], [2, 2], [4, 8]]);
  // A flat model keeps PEFT's plain list.
  const flat = new Sequential([new LoRA(new Linear(4, 4, { seed: 5 }), { rank: 1 }), new ReLU(), new LoRA(new Linear(4, 4, { seed: 6 }), { rank: 3 })]);
  expect([adapterConfig(flat).target_modules, adapterConfig(flat).rank_pattern]).toEqual([['0', '2'], { 2: 3 }]);
  nested.dispose();
  flat.dispose();
});

test('adapters in a nested Sequential are saved under their path; one inside a layer of your own is refused, not left out', () => {
  const { net, a2 } = model(11);
  const outer = new Sequential([new Linear(3, 3, { seed: 12 }), net]);
  expect(adapterConfig(outer).target_modules).toEqual('1\\.0|1\\.2');
  expect(adapterConfig(outer).rank_pattern).toEqual({ '^1\\.2': 2 });
  const file = saveAdapters(outer);
  const saved = a2.loraB.slice();
  a2.loraB.fill(0);
  loadAdapters(outer, file);
  expect(a2.loraB).toEqual(saved);
  const inner = new LoRA(new Linear(3, 3, { seed: 13 }), { rank: 1 });
  const wrapper = {
    forward: (x: Float32Array, batch: number) => inner.forward(x, batch),
    parameters: () => inner.parameters(),
  };
  const hiding = new Sequential([wrapper, net]);
  for (const call of [() => saveAdapters(hiding), () => loadAdapters(hiding, file), () => adapterConfig(hiding)]) {
    expect(call).toThrow(/0\.lora_A\.weight is of a LoRA inside a layer of your own, with no PEFT module path/);
  }
  inner.dispose();
  outer.dispose();
});
