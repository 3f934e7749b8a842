// init()'s policy: which build to load, what a second init() may ask, and shutdown();
// how many threads, and starting them, is the entry's (init.ts and src/workers.ts for the
// default one; /inline runs one). Makes the one Runtime (runtime.ts) of the page or process.
import { ABI_VERSION } from './abi.generated.js';
import type { Kernels } from './abi.js';
import { checkOptions, describe } from './errors.js';
import { compileKernels, hasRelaxedSimd, resolveLocation, type SimdLevel, type WasmSource } from './loader.js';
import type { ThreadSupport } from './pool.js';
import { currentRuntime, Runtime, setRuntime } from './runtime.js';

export interface InitOptions {
  /**
   * Which build to load: 'relaxed' (fused multiply-add, a wider register tile),
   * 'fixed' (plain SIMD), or 'auto' (default): relaxed where the runtime validates
   * it (Chrome 114+, Node 22+, Node 20 with --experimental-wasm-relaxed-simd).
   */
  simd?: SimdLevel | 'auto';
  /** The compiled kernels or where to get them; by default the .wasm shipped beside this file. */
  wasm?: WasmSource;
  /**
   * Threads for large products (default 1): a count, or 'auto' for every core. Needs
   * SharedArrayBuffer: in a browser, a page served with COOP: same-origin and COEP:
   * require-corp. 'auto' falls back to one thread without it (backendInfo() says why).
   * Results are bitwise identical whatever the count.
   */
  threads?: number | 'auto';
  /**
   * Where the GEMM workers' script is (a URL, or a string resolved like `wasm`): the
   * copy of simd-linear/worker a page hosts itself, for bundlers that do not emit it.
   * By default the worker.js beside this file. Only read when threads start.
   */
  worker?: URL | string;
}

/** The init() under way or done, until a failure or shutdown() clears it. */
let pending: Promise<void> | undefined;
/** The options of the init() call that made the runtime (or is making it). */
let first: SettledOptions | undefined;

/**
 * Where each entry point finds its kernels when `init` is not given `wasm` (files
 * beside the code, or embedded bytes), and how it runs GEMM workers, if it can.
 */
export interface KernelLocator {
  wasm(simd: SimdLevel, threaded: boolean): WasmSource | Promise<WasmSource>;
  workers?: ThreadSupport;
}

/**
 * Compiles and instantiates the kernels, found by `locate` unless options.wasm says.
 * Later calls with the same options return the same promise; after shutdown(), they
 * start the workers again on the same memory (every layer survives). Later calls with
 * other options reject, naming the option: one page or process has one runtime.
 * Rejects with a clear Error where WebAssembly SIMD is missing or the .wasm cannot be
 * loaded (and may then be called again, with any options).
 */
export function initWith(options: InitOptions, locate: KernelLocator): Promise<void> {
  let asked: SettledOptions;
  try {
    asked = settleOptions(checkOptions('init', options, 'simd, threads, wasm, worker'));
  } catch (error) {
    return Promise.reject(error);
  }
  const current = currentRuntime();
  if (first) {
    const mismatch = optionMismatch(first, asked, current);
    if (mismatch) return Promise.reject(mismatch);
  }
  first ??= asked;
  stopWhenStarted = false; // an init() after shutdown() wants the workers, even those still starting
  pending ??= current ? restart(current) : start(asked, locate);
  return pending;
}

/** shutdown() was called while the first init() was under way: its workers stop as soon as it is done. */
let stopWhenStarted = false;

function start(options: SettledOptions, locate: KernelLocator): Promise<void> {
  return instantiate(options, locate).then(
    (runtime) => {
      setRuntime(runtime);
      if (stopWhenStarted) shutdown();
    },
    (error: unknown) => { pending = undefined; first = undefined; stopWhenStarted = false; throw error; },
  );
}

/** Starts again the workers shutdown() ended; on failure this thread carries on alone, and init() may try again. */
function restart(runtime: Runtime): Promise<void> {
  if (!runtime.workers?.stopped) return Promise.resolve();
  return runtime.workers.start().catch((error: unknown) => { pending = undefined; throw error; });
}

/**
 * The options of an init() call with their defaults filled in, but 'auto' kept: two
 * calls are the same when these are, whatever 'auto' resolved to. The rule is about
 * what the caller wrote, so that it does not depend on the machine: init() then
 * init({ simd: 'relaxed' }) is a mismatch even where 'auto' chose 'relaxed'.
 */
interface SettledOptions {
  simd: SimdLevel | 'auto';
  threads: number | 'auto';
  wasm: WasmSource | undefined;
  worker: URL | string | undefined;
}

function settleOptions({ simd = 'auto', threads = 1, wasm, worker }: InitOptions): SettledOptions {
  return { simd, threads, wasm, worker };
}

/** Why `asked` differs from the options of the first call, naming the option; null when they agree. */
function optionMismatch(running: SettledOptions, asked: SettledOptions, runtime: Runtime | undefined): Error | null {
  for (const name of ['simd', 'threads', 'wasm', 'worker'] as const) {
    const [want, got] = [running[name], asked[name]];
    if (name === 'wasm' || name === 'worker' ? sameSource(want, got) : want === got) continue;
    const resolved = runtime && want === 'auto' ? ` (running ${showOption(runtime.info[name as 'simd' | 'threads'])})` : '';
    return new Error(
      `init: options.${name} differs from the first init(): expected ${showOption(want)}${resolved}, got ${showOption(got)} ` +
      '(one runtime per page or process)',
    );
  }
  return null;
}

/** The same object, or URLs and strings of the same text: what init() would load again. */
function sameSource(a: unknown, b: unknown): boolean {
  const isLocation = (source: unknown) => typeof source === 'string' || source instanceof URL;
  return a === b || (isLocation(a) && isLocation(b) && String(a) === String(b));
}

function showOption(value: unknown): string {
  if (value === undefined) return 'none';
  return typeof value === 'string' || value instanceof URL ? `'${String(value)}'` : describe(value);
}

async function instantiate({ simd, wasm, threads, worker }: SettledOptions, locate: KernelLocator): Promise<Runtime> {
  if (simd !== 'auto' && simd !== 'fixed' && simd !== 'relaxed') {
    throw new TypeError(`init: simd must be 'auto', 'fixed' or 'relaxed'; got ${describe(simd)}`);
  }
  if (simd === 'relaxed' && !hasRelaxedSimd()) {
    throw new Error(
      "init: simd: 'relaxed' was asked for but this runtime does not support relaxed SIMD " +
      '(Node 20 needs --experimental-wasm-relaxed-simd; Chrome needs version 114)',
    );
  }
  if (worker !== undefined && typeof worker !== 'string' && !(worker instanceof URL)) {
    throw new TypeError(`init: worker must be a URL or a string; got ${describe(worker)}`);
  }
  const level: SimdLevel = simd === 'auto' ? (hasRelaxedSimd() ? 'relaxed' : 'fixed') : simd;
  const { count, note } = locate.workers ? locate.workers.count(threads) : oneThread(threads);
  const threaded = count > 1;
  const module = await compileKernels(wasm ?? await locate.wasm(level, threaded));
  const memory = threaded
    ? new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true })
    : new WebAssembly.Memory({ initial: 1 });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const kernels = instance.exports as unknown as Kernels;
  const version = kernels.ABI_VERSION?.value;
  if (version !== ABI_VERSION) {
    throw new Error(
      `simd-linear: the .wasm speaks ABI version ${String(version)} but this JavaScript expects ${ABI_VERSION}: ` +
      'the two come from different builds (rebuild, or serve the .wasm shipped with this version)',
    );
  }
  const runtime = new Runtime(kernels, memory);
  if (threaded) {
    const script = worker === undefined ? undefined : resolveLocation(worker);
    runtime.workers = locate.workers!.workers(runtime, count - 1, module, script);
    await runtime.workers.start();
  }
  if (note) runtime.info.threadsNote = note;
  return runtime;
}

/** An entry point without threads (simd-linear/inline) runs one, whatever 'auto' would find. */
function oneThread(threads: unknown): { count: number; note?: string } {
  const note = 'this entry point runs on one thread (simd-linear/inline embeds no threads build): import simd-linear';
  if (threads === 'auto') return { count: 1, note };
  if (threads === 1) return { count: 1 };
  throw new (typeof threads === 'number' ? RangeError : TypeError)(`init: options.threads must be 1 or 'auto' here (${note}); got ${describe(threads)}`);
}

/**
 * Ends the worker threads started by init({ threads }), so that Node can exit; large
 * products then run on this thread. Does nothing without workers. A later init(),
 * with the same options, starts them again; every layer stays valid throughout.
 */
export function shutdown(): void {
  const current = currentRuntime();
  stopWhenStarted = !current && pending !== undefined;
  if (!current) return;
  if (!current.workers) return;
  current.workers.stop();
  pending = undefined; // the next init() restarts the workers
}

