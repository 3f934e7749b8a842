// How each consumer builds or runs the fixture app. The bundlers run from this repository's
// node_modules through their JS APIs, rooted in the throwaway consumer project, so nothing but
// the packed tarball is installed per consumer (offline-friendly) and module resolution still
// finds `simd-linear` in the consumer's own node_modules, as in a real project.
import { createRequire } from 'node:module';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const version = (name) => require(`${name}/package.json`).version;

/** The page every browser build is loaded through; `script` loads the bundle. The empty icon spares a favicon 404. */
const page = (script) =>
  `<!doctype html>\n<html><head><meta charset="utf-8"><title>simd-linear smoke test</title><link rel="icon" href="data:,"></head>\n` +
  `<body>running…\n${script}\n</body></html>\n`;

/** `vite build` with no config: index.html at the root is the entry, output in dist/. */
async function viteBuild(dir) {
  const { build, createLogger } = await import('vite');
  const logger = createLogger('warn');
  const warnings = [];
  const warn = logger.warn;
  logger.warn = (message, options) => { warnings.push(message); warn(message, options); };
  await writeFile(join(dir, 'index.html'), page('<script type="module" src="/src/index.js"></script>'));
  await build({ root: dir, logLevel: 'warn', customLogger: logger });
  return { outDir: join(dir, 'dist'), warnings };
}

/** webpack's zero-config defaults (src/index.js → dist/main.js), production mode, as `npx webpack` in the consumer. */
async function webpackBuild(dir) {
  const { default: webpack } = await import('webpack');
  const outDir = join(dir, 'dist');
  const compiler = webpack({ mode: 'production', context: dir, entry: './src/index.js', output: { path: outDir } });
  const stats = await new Promise((done, fail) => compiler.run((error, result) => (error ? fail(error) : done(result))));
  await new Promise((done) => compiler.close(done));
  const { errors = [], warnings = [] } = stats.toJson({ all: false, errors: true, warnings: true });
  if (errors.length > 0) throw new Error(errors.map((e) => e.message).join('\n'));
  // A classic script: webpack's automatic publicPath finds the emitted .wasm through document.currentScript.
  await writeFile(join(outDir, 'index.html'), page('<script src="main.js"></script>'));
  return { outDir, warnings: warnings.map((w) => w.message) };
}

/** esbuild bundles `entry` to dist/main.js (ESM, minified); it copies no assets. */
function esbuildBuild(entry) {
  return async (dir) => {
    const esbuild = await import('esbuild');
    const outDir = join(dir, 'dist');
    const result = await esbuild.build({
      absWorkingDir: dir, entryPoints: [entry], outfile: join(outDir, 'main.js'),
      bundle: true, format: 'esm', minify: true, logLevel: 'silent',
    });
    await writeFile(join(outDir, 'index.html'), page('<script type="module" src="main.js"></script>'));
    return { outDir, warnings: result.warnings.map((w) => w.text) };
  };
}

/**
 * kind 'browser': build(dir) then load dist/index.html in Chromium; kind 'node': run `script` with node.
 * `expectFailure`: a load that must fail with this message (a documented limitation, checked so
 * that the error stays clear), not a failure of the run.
 */
export const targets = [
  { name: `vite ${version('vite')}`, kind: 'browser', build: viteBuild },
  { name: `webpack ${version('webpack')}`, kind: 'browser', build: webpackBuild },
  { name: `esbuild ${version('esbuild')} (/inline)`, kind: 'browser', build: esbuildBuild('src/index-inline.js') },
  {
    name: `esbuild ${version('esbuild')} (default)`,
    kind: 'browser',
    build: esbuildBuild('src/index.js'),
    expectFailure: /simd-linear: fetching the kernels from \S+\.wasm failed: HTTP 404/,
  },
  { name: `node ${process.versions.node} ESM`, kind: 'node', script: 'src/node-esm.mjs' },
  { name: `node ${process.versions.node} require`, kind: 'node', script: 'src/node-cjs.cjs' },
];
