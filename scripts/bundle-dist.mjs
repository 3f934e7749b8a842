// Bundles the modules tsc wrote to dist/ into the files a page loads (esbuild): each
// request costs its own gzip dictionary, and twenty small modules gzipped one by one
// were a fifth larger than the same code in a few files. Entries: the public ones
// (index, inline, reference), `internal` (what tests and the bench reach below the
// API, sharing the one runtime), and the worker, alone and self-contained (a worker
// file has no relative imports, so hosting or bundling it needs nothing beside it).
// The .d.ts files stay one per module; source maps still point into src/.
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const out = `${dist}.bundle/`;
const common = { bundle: true, format: 'esm', platform: 'neutral', target: 'esnext', sourcemap: true, logLevel: 'warning', outdir: out };
rmSync(out, { recursive: true, force: true });
await build({
  ...common,
  entryPoints: ['index', 'inline', 'reference', 'internal'].map((name) => `${dist}${name}.js`),
  splitting: true,
  chunkNames: 'shared-[hash]',
  external: ['./wasm-inline.js'],
});
await build({ ...common, entryPoints: [`${dist}worker.js`] });

// tsc's modules give way to the bundles (the embedded kernels stay a module of their own).
for (const file of readdirSync(dist)) {
  if ((file.endsWith('.js') || file.endsWith('.js.map')) && !file.startsWith('wasm-inline.')) rmSync(dist + file);
}
for (const file of readdirSync(out)) {
  let text = readFileSync(out + file, 'utf8');
  // esbuild writes some classes as `var X = class …`: one that names itself inside its body
  // as `var X = class _X`, which would make X.name '_X' (the inner name becomes X again, the
  // same binding), others anonymous, named only by the variable, which the minifier renames
  // (X.name 'Ne'): they are given their own name, which it keeps.
  if (file.endsWith('.js')) {
    for (const [, name] of text.matchAll(/\bvar (\w+) = class _\1\b/g)) text = text.replace(new RegExp(`\\b_${name}\\b`, 'g'), name);
    text = text.replace(/\bvar (\w+) = class (?=extends\b|\{)/g, 'var $1 = class $1 ');
  } else {
    // The map's sources are relative to where it was written; it moves up to dist/.
    const map = JSON.parse(text);
    map.sources = map.sources.map((source) => relative(dist, resolve(out, source)));
    text = JSON.stringify(map);
  }
  writeFileSync(out + file, text);
  renameSync(out + file, dist + file);
}
rmSync(out, { recursive: true });
