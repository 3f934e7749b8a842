// The platform types our declarations name, looked up on globalThis rather than named
// directly: a consumer whose configuration lacks the DOM library (Node: ES2022 and
// @types/node) still type-checks the .d.ts files with skipLibCheck off. Where a type
// is missing, so is the value, so `never` there takes nothing from anyone.

type Platform = typeof globalThis;
type WasmApi = Platform extends { WebAssembly: infer Api } ? Api : never;
type InstanceOf<Api, Name extends string> = Api extends Record<Name, { prototype: infer Instance }> ? Instance : never;

/**
 * A compiled WebAssembly.Module. The DOM library declares it as an empty interface,
 * which 42 and true would satisfy; `& object` keeps it to objects.
 */
export type WasmModule = InstanceOf<WasmApi, 'Module'> & object;
export type WasmMemory = InstanceOf<WasmApi, 'Memory'>;
export type WasmGlobal = InstanceOf<WasmApi, 'Global'>;
/** fetch's Response (DOM, or @types/node's undici). */
export type FetchResponse = InstanceOf<Platform, 'Response'>;
/** The WHATWG URL (DOM, or @types/node). */
export type WebUrl = InstanceOf<Platform, 'URL'>;

// Layers and allocated arrays are Disposable; configurations without esnext.disposable
// (ES2022 + DOM) learn the symbol here, declared as TypeScript's library and
// @types/node declare it (identical declarations merge).
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}
