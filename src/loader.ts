// Fetches and compiles the .wasm. Node reads file: URLs from disk (its fetch
// cannot), through process.getBuiltinModule so that no `node:` import reaches a
// browser bundle.
import type { FetchResponse, WasmModule, WebUrl } from './globals.js';

/** Everything `init({ wasm })` accepts as the compiled kernels or where to find them. */
export type WasmSource = WasmModule | ArrayBuffer | ArrayBufferView<ArrayBuffer> | WebUrl | string | FetchResponse;

/** v128.const of these bytes, the rest 0. */
const v128Const = (...bytes: number[]) => [0xfd, 0x0c, ...bytes.map((byte) => byte & 0xff), ...new Array<number>(16 - bytes.length).fill(0)];

/** A module exporting f: () → result (0x7b: v128, 0x7f: i32) whose body is `body`. */
function probeModule(result: number, body: number[]): Uint8Array<ArrayBuffer> {
  const code = [0x00, ...body, 0x0b]; // no locals, body, end
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, result, // type: () -> result
    0x03, 0x02, 0x01, 0x00, // one function of that type
    0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, // exported as "f"
    0x0a, code.length + 2, 0x01, code.length, ...code,
  ]);
}

/** Validates only where SIMD is supported. */
const SIMD_PROBE = probeModule(0x7b, v128Const());

/** Validates only where relaxed SIMD is enabled: f32x4.relaxed_madd. */
const RELAXED_SIMD_PROBE = probeModule(0x7b, [...v128Const(), ...v128Const(), ...v128Const(), 0xfd, 0x85, 0x02]);

/**
 * f() = lane 0 of i32x4.relaxed_dot_i8x16_i7x16_add_s([−1, −2, 3, 4, 0…], [10, 20, 30, 127, 0…],
 * [1000, 0…]), which is 1548. V8 11.3 (Node 20) answers 1096 from its baseline compiler:
 * twice the products, the addend dropped.
 */
const FUSED_DOT_PROBE = probeModule(0x7f, [
  ...v128Const(-1, -2, 3, 4), ...v128Const(10, 20, 30, 127), ...v128Const(0xe8, 0x03),
  0xfd, 0x93, 0x02, // i32x4.relaxed_dot_i8x16_i7x16_add_s
  0xfd, 0x1b, 0x00, // i32x4.extract_lane 0
]);

/** Which kernels to run: SIMD with separate multiply and add, or relaxed SIMD with fused multiply-add. */
export type SimdLevel = 'fixed' | 'relaxed';

export function hasSimd(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
}

export function hasRelaxedSimd(): boolean {
  return hasSimd() && WebAssembly.validate(RELAXED_SIMD_PROBE);
}

/**
 * Whether the relaxed build's int8 kernels may use the fused dot product: run once, as
 * a kernel's first call runs, by the engine's first compiler. (Where only an optimizing
 * tier were wrong, a kernel could differ from this answer; no engine is known to.)
 */
export function hasExactFusedDot(): boolean {
  try {
    const probe = new WebAssembly.Instance(new WebAssembly.Module(FUSED_DOT_PROBE)).exports as { f(): number };
    return probe.f() === 1548;
  } catch {
    return false; // no relaxed SIMD, or a runtime refusing to compile here: the unfused form is right everywhere
  }
}

export async function compileKernels(source: WasmSource): Promise<WasmModule> {
  if (!hasSimd()) {
    throw new Error(
      'simd-linear: this runtime lacks WebAssembly SIMD (needed since Chrome 91, Firefox 89, Safari 16.4, Node 16.4)',
    );
  }
  if (source instanceof WebAssembly.Module) return source;
  if (typeof source === 'string' || source instanceof URL) return compileUrl(resolveLocation(source));
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return compileBytes(source, 'the bytes given');
  // After the bytes: in Node, the first look at the Response global loads its fetch (about 30 ms).
  if (typeof Response !== 'undefined' && source instanceof Response) return compileResponse(source, source.url || 'the Response given');
  throw new TypeError(
    'init: wasm must be a WebAssembly.Module, bytes (ArrayBuffer or typed array), a URL, a string or a Response; ' +
    `got ${Object.prototype.toString.call(source)}`,
  );
}

/** A location given to init() as a URL: relative strings resolved as baseUrl() says. */
export function resolveLocation(location: string | URL): URL {
  return new URL(location, baseUrl());
}

/**
 * Relative locations resolve against the page (or worker) in a browser, the working
 * directory in Node. (Not against import.meta.url: bundlers would bake the build
 * machine's path into the bundle.)
 */
function baseUrl(): string | URL | undefined {
  if (typeof location === 'object') return location.href;
  // globalThis.process, never a bare `process`: a bundler seeing one adds a polyfill (Parcel even installs it).
  const node = globalThis.process;
  const url = node?.getBuiltinModule?.('node:url');
  return url?.pathToFileURL(`${node!.cwd()}/`);
}

async function compileUrl(url: URL): Promise<WebAssembly.Module> {
  if (url.protocol === 'file:') {
    const fs = globalThis.process?.getBuiltinModule?.('node:fs');
    if (!fs) throw new Error(`simd-linear: cannot read ${url.href}: this runtime has no file system access`);
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = await fs.promises.readFile(url);
    } catch (cause) {
      // Deno guards file reads: say both ways out (its own message names the flag).
      const deno = 'Deno' in globalThis ? ' (in Deno: run with --allow-read, or import simd-linear/inline, which reads no file)' : '';
      throw new Error(`simd-linear: cannot read the kernels at ${url.href}: ${(cause as Error).message}${deno}`);
    }
    return compileBytes(bytes, url.href);
  }
  let response: Response;
  try {
    response = await fetch(url);
  } catch (cause) {
    throw new Error(`simd-linear: cannot fetch the kernels from ${url.href}: ${(cause as Error).message}`);
  }
  return compileResponse(response, url.href);
}

async function compileResponse(response: Response, where: string): Promise<WebAssembly.Module> {
  if (!response.ok) {
    throw new Error(`simd-linear: fetching the kernels from ${where} failed: HTTP ${response.status} ${response.statusText}`);
  }
  // Streaming compilation needs the right MIME type; servers that send another
  // still get a working load, through the bytes.
  const type = response.headers.get('Content-Type') ?? '';
  if (type.startsWith('application/wasm') && typeof WebAssembly.compileStreaming === 'function') {
    return WebAssembly.compileStreaming(response);
  }
  return compileBytes(await response.arrayBuffer(), where);
}

function compileBytes(bytes: BufferSource, where: string): Promise<WebAssembly.Module> {
  const head = new Uint8Array(ArrayBuffer.isView(bytes) ? bytes.buffer : bytes, ArrayBuffer.isView(bytes) ? bytes.byteOffset : 0);
  if (head.length < 4 || head[0] !== 0x00 || head[1] !== 0x61 || head[2] !== 0x73 || head[3] !== 0x6d) {
    const text = new TextDecoder().decode(head.subarray(0, 40)).replace(/\s+/g, ' ');
    throw new Error(
      `simd-linear: ${where} is not a WebAssembly module (it starts with ${JSON.stringify(text)}; ` +
      'a server or bundler may be answering with an HTML page instead of the .wasm file)',
    );
  }
  return WebAssembly.compile(bytes);
}
