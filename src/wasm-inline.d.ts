// Written by scripts/embed-wasm.mjs after the kernels are built: each build's .wasm in hex.
export declare const fixed: string;
export declare const relaxed: string;
