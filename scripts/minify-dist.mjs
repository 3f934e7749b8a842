// Minifies the JavaScript tsc wrote to dist/ (terser), keeping every class and function
// name, so that a page loading the package unbundled downloads little while stack traces
// and `layer.constructor.name` still read as in src/. Each file's source map is carried
// through, so it still points into src/.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { minify } from 'terser';

const dist = new URL('../dist/', import.meta.url);
const MAP_COMMENT = /\n\/\/# sourceMappingURL=\S+\s*$/;

for (const file of readdirSync(dist).filter((name) => name.endsWith('.js'))) {
  const url = new URL(file, dist);
  const mapUrl = new URL(`${file}.map`, dist);
  const hasMap = existsSync(mapUrl);
  const code = readFileSync(url, 'utf8').replace(MAP_COMMENT, '\n');
  const result = await minify({ [file]: code }, {
    module: true, ecma: 2022, toplevel: true, compress: { passes: 2 }, keep_classnames: true, keep_fnames: true,
    format: { comments: false },
    sourceMap: hasMap ? { content: readFileSync(mapUrl, 'utf8'), url: `${file}.map` } : false,
  });
  writeFileSync(url, `${result.code}\n`);
  if (hasMap) writeFileSync(mapUrl, result.map);
}
