// Reads the digits cache that examples/mnist.ts writes (node_modules/.cache/simd-linear/mnist.bin),
// served by demo/serve.ts. Layout, little-endian: a 48-byte header ('SLMN', u32 format 1, u32 train
// count, u32 test count, u32 image size 784, u32 split seed, 24 bytes of package version), then
// every label (train, then test), then every image (train, then test), one byte per pixel.

export const IMAGE_SIZE = 28 * 28;
const HEADER_BYTES = 48;
const FORMAT_VERSION = 1;

/** `count` digits: `pixels` is count·784 floats in [0, 1] (level/255), ready to be a batch. */
export interface DigitSet {
  pixels: Float32Array;
  labels: Uint8Array;
  count: number;
}

export async function fetchMnist(url: string): Promise<{ train: DigitSet; test: DigitSet }> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url} failed: HTTP ${response.status}`);
  return parseMnist(await response.arrayBuffer());
}

export function parseMnist(buffer: ArrayBuffer): { train: DigitSet; test: DigitSet } {
  const view = new DataView(buffer);
  const magic = new TextDecoder().decode(new Uint8Array(buffer, 0, Math.min(4, buffer.byteLength)));
  if (buffer.byteLength < HEADER_BYTES || magic !== 'SLMN' || view.getUint32(4, true) !== FORMAT_VERSION) {
    throw new Error(`not a format ${FORMAT_VERSION} simd-linear MNIST cache (see examples/mnist.ts)`);
  }
  const trainCount = view.getUint32(8, true), testCount = view.getUint32(12, true);
  const count = trainCount + testCount;
  if (view.getUint32(16, true) !== IMAGE_SIZE || buffer.byteLength !== HEADER_BYTES + count * (1 + IMAGE_SIZE)) {
    throw new Error(`the MNIST cache is ${buffer.byteLength} bytes, not what its header describes`);
  }
  const labels = new Uint8Array(buffer, HEADER_BYTES, count);
  const levels = new Uint8Array(buffer, HEADER_BYTES + count, count * IMAGE_SIZE);
  // Scaled to floats once here, so that a training step only copies rows.
  const set = (from: number, n: number): DigitSet => {
    const pixels = new Float32Array(n * IMAGE_SIZE);
    for (let i = 0, at = from * IMAGE_SIZE; i < pixels.length; i++) pixels[i] = levels[at + i] / 255;
    return { pixels, labels: labels.slice(from, from + n), count: n };
  };
  return { train: set(0, trainCount), test: set(trainCount, testCount) };
}
