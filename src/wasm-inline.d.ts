// Written by scripts/embed-wasm.mjs after the kernels are built: the fixed and relaxed
// builds interleaved in pieces of `piece` bytes, deflated (zlib format), in base64.
export declare const kernels: string;
export declare const piece: number;
/** Bytes of the fixed and of the relaxed build. */
export declare const sizes: [number, number];
