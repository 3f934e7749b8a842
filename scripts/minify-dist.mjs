// Minifies the JavaScript in dist/ (terser), as bundled by bundle-dist.mjs, keeping the names users see:
// every class (`layer.constructor.name`) and every function of the public entries (`matmul.name`,
// and their frames in stack traces); internal helpers are renamed (a kept name is spelled out at
// every call: `describe` alone cost 0.2 KB gzip). Each file's source map is carried through, so it
// still points into src/.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { minify } from 'terser';

const dist = new URL('../dist/', import.meta.url);
const MAP_COMMENT = /\n\/\/# sourceMappingURL=\S+\s*$/;
const files = readdirSync(dist).filter((name) => name.endsWith('.js'));
const sources = new Map(files.map((file) => [file, readFileSync(new URL(file, dist), 'utf8')]));
// The public functions are found in the public entries' sources: declared there (`export function`),
// or re-exported by name (`export { matmul, type MatmulOptions } from …`).
const src = new URL('../src/', import.meta.url);
const exported = new Set(['index.ts', 'api.ts', 'inline.ts', 'reference.ts'].flatMap((name) => {
  const text = readFileSync(new URL(name, src), 'utf8');
  const declared = [...text.matchAll(/export (?:async )?function\*? (\w+)/g)].map(([, fn]) => fn);
  const listed = [...text.matchAll(/export \{([^}]*)\}/g)].flatMap(([, list]) => list.split(',').map((item) => item.trim())
    .filter((item) => item && !item.startsWith('type ')).map((item) => item.split(/\s+as\s+/).pop()));
  return [...declared, ...listed];
}));
const keepFunctionNames = new RegExp(`^(${[...exported].join('|')})$`);
// Members marked @internal keep their names, though no .d.ts shows them: renamed to the short
// names terser picks, they collided with a user's own fields (`class Tagged extends Linear { h = … }`
// replaced the layer's gradient tensors; tests/layer-protocol.test.ts).

for (const [file, source] of sources) {
  const url = new URL(file, dist);
  const mapUrl = new URL(`${file}.map`, dist);
  const hasMap = existsSync(mapUrl);
  const result = await minify({ [file]: source.replace(MAP_COMMENT, '\n') }, {
    module: true, ecma: 2022, toplevel: true, compress: { passes: 2, hoist_funs: true }, keep_classnames: true, keep_fnames: keepFunctionNames,
    format: { comments: false },
    sourceMap: hasMap ? { content: readFileSync(mapUrl, 'utf8'), url: `${file}.map`, includeSources: true } : false,
  });
  writeFileSync(url, `${result.code}\n`);
  if (hasMap) writeFileSync(mapUrl, result.map);
}
