// A GEMM worker: instantiates the threads build over the shared memory it is sent,
// then serves calls posted in its slot of the control block until told to stop.
// Runs as a Node worker_threads worker or a browser module Web Worker; it never
// allocates in the module's memory (its scratch comes with each call).
import { CALL_WORD, EPOCH_WORD, PART_WORD, SLOT_WORDS, SPIN_CHECKS, State } from './pool-protocol.js';
import type { Kernels } from './abi.js';

interface Setup {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: number;
  slot: number;
  scratch: number;
  /** The epoch of the pool this worker belongs to (see EPOCH_WORD). */
  epoch: number;
}

type Port = { on?: (event: 'message', f: (data: Setup) => void) => void; postMessage(data: unknown): void };

const nodePort = (globalThis.process?.getBuiltinModule?.('node:worker_threads') as { parentPort?: Port } | undefined)?.parentPort;
const port: Port = nodePort ?? (globalThis as unknown as Port);

function onSetup(setup: Setup): void {
  WebAssembly.instantiate(setup.module, { env: { memory: setup.memory } }).then(
    (instance) => {
      port.postMessage({ ready: true });
      serve(instance.exports as unknown as Kernels, setup);
    },
    (error: unknown) => port.postMessage({ error: String(error) }),
  );
}

function serve(kernels: Kernels, { memory, control, slot, scratch, epoch }: Setup): void {
  const base = control / 4 + slot * SLOT_WORDS;
  const words = new Int32Array(memory.buffer);
  let idle = 0;
  for (;;) {
    const state = Atomics.load(words, base);
    if (state === State.Stop) break;
    if (state !== State.Posted) {
      // Calls come in bursts (a layer's products, a training step): spin a while
      // before sleeping, since waking a sleeping thread costs tens of microseconds.
      if (++idle > SPIN_CHECKS) Atomics.wait(words, base, state);
      continue;
    }
    // Read after the state: a later pool writes its epoch before it posts a call.
    if (Atomics.load(words, base + EPOCH_WORD) !== epoch) break;
    idle = 0;
    try {
      // The call's descriptor, as the main thread wrote it: the kernels find this worker's block.
      kernels.gemm(words[base + CALL_WORD], words[base + PART_WORD], scratch);
      Atomics.store(words, base, State.Done);
    } catch (error) {
      port.postMessage({ error: String(error) });
      Atomics.store(words, base, State.Failed);
    }
    Atomics.notify(words, base);
  }
  (globalThis as { close?: () => void }).close?.();
}

// Imported anywhere but in a worker (a page's main thread, where a bundler put it), it listens to
// nothing: a window's onmessage would answer every message posted to the page, its own replies included.
if (nodePort) nodePort.on!('message', onSetup);
else if (typeof window === 'undefined') (globalThis as unknown as { onmessage: (e: { data: Setup }) => void }).onmessage = (e) => onSetup(e.data);
