// Minifies the JavaScript tsc wrote to dist/ (terser), keeping the names users see:
// every class (`layer.constructor.name`) and every exported function (`matmul.name`,
// and their frames in stack traces). Each file's source map is carried through, so it
// still points into src/.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { minify } from 'terser';

const dist = new URL('../dist/', import.meta.url);
const MAP_COMMENT = /\n\/\/# sourceMappingURL=\S+\s*$/;
const files = readdirSync(dist).filter((name) => name.endsWith('.js'));
const sources = new Map(files.map((file) => [file, readFileSync(new URL(file, dist), 'utf8')]));
const exported = new Set([...sources.values()].flatMap((code) => [...code.matchAll(/export (?:async )?function\*? (\w+)/g)].map(([, name]) => name)));
const keepFunctionNames = new RegExp(`^(${[...exported].join('|')})$`);

for (const [file, source] of sources) {
  const url = new URL(file, dist);
  const mapUrl = new URL(`${file}.map`, dist);
  const hasMap = existsSync(mapUrl);
  const result = await minify({ [file]: source.replace(MAP_COMMENT, '\n') }, {
    module: true, ecma: 2022, toplevel: true, compress: { passes: 2 }, keep_classnames: true, keep_fnames: keepFunctionNames,
    format: { comments: false },
    sourceMap: hasMap ? { content: readFileSync(mapUrl, 'utf8'), url: `${file}.map` } : false,
  });
  writeFileSync(url, `${result.code}\n`);
  if (hasMap) writeFileSync(mapUrl, result.map);
}
