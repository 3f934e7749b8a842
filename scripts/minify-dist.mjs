// Minifies the JavaScript in dist/ (terser), as bundled by bundle-dist.mjs, keeping the names users see:
// every class (`layer.constructor.name`) and every exported function (`matmul.name`,
// and their frames in stack traces). Each file's source map is carried through, so it
// still points into src/.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { minify } from 'terser';

const dist = new URL('../dist/', import.meta.url);
const MAP_COMMENT = /\n\/\/# sourceMappingURL=\S+\s*$/;
const files = readdirSync(dist).filter((name) => name.endsWith('.js'));
const sources = new Map(files.map((file) => [file, readFileSync(new URL(file, dist), 'utf8')]));
// Exported functions are found in src/: the bundles export them by list, not by declaration.
const src = new URL('../src/', import.meta.url);
const exported = new Set(readdirSync(src).filter((name) => name.endsWith('.ts')).flatMap((name) =>
  [...readFileSync(new URL(name, src), 'utf8').matchAll(/export (?:async )?function\*? (\w+)/g)].map(([, fn]) => fn)));
const keepFunctionNames = new RegExp(`^(${[...exported].join('|')})$`);

for (const [file, source] of sources) {
  const url = new URL(file, dist);
  const mapUrl = new URL(`${file}.map`, dist);
  const hasMap = existsSync(mapUrl);
  const result = await minify({ [file]: source.replace(MAP_COMMENT, '\n') }, {
    module: true, ecma: 2022, toplevel: true, compress: { passes: 2 }, keep_classnames: true, keep_fnames: keepFunctionNames,
    format: { comments: false },
    sourceMap: hasMap ? { content: readFileSync(mapUrl, 'utf8'), url: `${file}.map`, includeSources: true } : false,
  });
  writeFileSync(url, `${result.code}\n`);
  if (hasMap) writeFileSync(mapUrl, result.map);
}
