// What the declarations must refuse (each line an expected error, checked by run.mjs).
import { init, Linear } from 'simd-linear';

// @ts-expect-error a number is not a wasm source
await init({ wasm: 42 });
// @ts-expect-error a boolean is not a wasm source
await init({ wasm: true });
// @ts-expect-error not a build
await init({ simd: 'fast' });
// @ts-expect-error a worker location is a URL or a string
await init({ worker: 1 });

// The layers' protocol with Sequential is internal: not in the public types (nor autocomplete).
const layer = new Linear(2, 2);
// @ts-expect-error internal
void layer.forwardAt;
// @ts-expect-error internal
void layer.backwardAt;
// @ts-expect-error internal
void layer.outputWidth;
// @ts-expect-error internal
void layer.createTape;
