// How each consumer builds or runs the fixture app. The bundlers run from this repository's
// node_modules through their JS APIs, rooted in the throwaway consumer project, so nothing but
// the packed tarball is installed per consumer (offline-friendly) and module resolution still
// finds `simd-linear` in the consumer's own node_modules, as in a real project.
import { createRequire } from 'node:module';
import { execFile } from 'node:child_process';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const require = createRequire(import.meta.url);
const run = promisify(execFile);
const bun = require.resolve('bun/bin/bun.exe');
const deno = require.resolve('deno/bin.cjs').replace(/bin\.cjs$/, 'deno');

/** The Node versions besides this one that consumers run on, from the npm registry's plain binaries (as test-node-versions.sh). */
const OTHER_NODES = ['22.23.3', '24.21.0'];
const nodeAt = (version) => ['npx', '--yes', '--package', `node-${process.platform}-${process.arch}@${version}`, '--', 'node'];
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

/** esbuild bundles `entry` to dist/main.js (ESM, minified); it copies no assets: `recipe` does what the README says. */
function esbuildBuild(entry, recipe) {
  return async (dir) => {
    const esbuild = await import('esbuild');
    const outDir = join(dir, 'dist');
    const result = await esbuild.build({
      absWorkingDir: dir, entryPoints: [entry], outfile: join(outDir, 'main.js'),
      bundle: true, format: 'esm', minify: true, logLevel: 'silent',
    });
    await recipe?.(dir, outDir);
    await writeFile(join(outDir, 'index.html'), page('<script type="module" src="main.js"></script>'));
    return { outDir, warnings: result.warnings.map((w) => w.text) };
  };
}

/**
 * The README's recipe for bundlers that leave `new URL('./x', import.meta.url)` alone
 * (esbuild, bun build, Rollup without an asset plugin): the kernels and the worker go
 * beside the bundle, where the code looks for them. As the shell line
 * `cp node_modules/simd-linear/dist/*.wasm node_modules/simd-linear/dist/worker.js dist/`.
 */
async function copyKernelsBeside(dir, outDir, { worker = true } = {}) {
  const shipped = join(dir, 'node_modules', 'simd-linear', 'dist');
  for (const file of await readdir(shipped)) {
    if (file.endsWith('.wasm') || (worker && file === 'worker.js')) await copyFile(join(shipped, file), join(outDir, file));
  }
}

/** The recipe half done (the worker forgotten): the error must say where the worker was looked for. */
const copyKernelsOnly = (dir, outDir) => copyKernelsBeside(dir, outDir, { worker: false });

/** Vite's dev server on the project (it pre-bundles simd-linear), cross-origin isolated; `url` and `close`. */
async function viteDev(dir, headers) {
  const { createServer } = await import('vite');
  await writeFile(join(dir, 'index.html'), page('<script type="module" src="/src/index.js"></script>'));
  const server = await createServer({ root: dir, logLevel: 'warn', server: { host: '127.0.0.1', port: 0, headers } });
  await server.listen();
  return { url: server.resolvedUrls.local[0], close: () => server.close() };
}

/** Rollup with node-resolve and its usual asset plugin, which emits what `new URL(..., import.meta.url)` names. */
async function rollupBuild(dir) {
  const { rollup } = await import('rollup');
  const { nodeResolve } = await import('@rollup/plugin-node-resolve');
  const { importMetaAssets } = await import('@web/rollup-plugin-import-meta-assets');
  const warnings = [];
  const outDir = join(dir, 'dist');
  const bundle = await rollup({
    input: join(dir, 'src', 'index.js'),
    plugins: [nodeResolve({ browser: true, rootDir: dir }), importMetaAssets()],
    onwarn: (warning) => warnings.push(warning.message),
  });
  await bundle.write({ dir: outDir, format: 'es' });
  await bundle.close();
  await writeFile(join(outDir, 'index.html'), page('<script type="module" src="index.js"></script>'));
  return { outDir, warnings };
}

/** `bun build` for the browser, as a user runs it in the project, then the copy recipe. */
async function bunBuild(dir) {
  const outDir = join(dir, 'dist');
  const { stderr } = await run(bun, ['build', './src/index.js', '--outdir', 'dist', '--target', 'browser', '--minify'], { cwd: dir });
  await copyKernelsBeside(dir, outDir);
  await writeFile(join(outDir, 'index.html'), page('<script type="module" src="index.js"></script>'));
  return { outDir, warnings: stderr.split('\n').filter((line) => /warn/i.test(line)) };
}

/**
 * Parcel 2's first build of a fresh project loading `entry` (index.html the entry; cache and all from
 * scratch). Its default config comes from this repository's node_modules; everything
 * else as `npx parcel build index.html`. A build that changed the project's
 * package.json (Parcel installing a polyfill it thought the code needs) fails.
 */
function parcelBuild(entry) {
  return async (dir) => {
    const { Parcel } = await import('@parcel/core');
    await writeFile(join(dir, 'index.html'), page(`<script type="module" src="./${entry}"></script>`));
    const manifest = await readFile(join(dir, 'package.json'), 'utf8');
    const parcel = new Parcel({
      entries: join(dir, 'index.html'), defaultConfig: require.resolve('@parcel/config-default'),
      mode: 'production', shouldDisableCache: true, projectRoot: dir, logLevel: 'warn',
      defaultTargetOptions: { distDir: join(dir, 'dist') },
    });
    const { bundleGraph, ...event } = await parcel.run();
    if (await readFile(join(dir, 'package.json'), 'utf8') !== manifest) throw new Error('parcel changed the project\'s package.json');
    return { outDir: join(dir, 'dist'), warnings: (event.diagnostics ?? []).map((d) => d.message), bundles: bundleGraph.getBundles().length };
  };
}

/**
 * kind 'browser': build(dir) then load dist/index.html in the browsers, or serve(dir, headers) and
 * load its url; kind 'runtime': run `command` in the project (Node, Bun, Deno).
 * `expectFailure`: a load that must fail with this message (a documented limitation, checked so
 * that the error stays clear), not a failure of the run.
 */
export const targets = [
  { name: `vite ${version('vite')}`, kind: 'browser', build: viteBuild },
  { name: `vite ${version('vite')} dev server`, kind: 'browser', serve: viteDev },
  { name: `webpack ${version('webpack')}`, kind: 'browser', build: webpackBuild },
  { name: `parcel ${version('parcel')}`, kind: 'browser', build: parcelBuild('src/index.js') },
  // Without packageExports (Parcel's default), simd-linear/inline resolves through the inline/ stub folder.
  { name: `parcel ${version('parcel')} (/inline)`, kind: 'browser', build: parcelBuild('src/index-inline.js') },
  { name: `rollup ${version('rollup')} (+ import-meta-assets)`, kind: 'browser', build: rollupBuild },
  { name: `esbuild ${version('esbuild')} (/inline)`, kind: 'browser', build: esbuildBuild('src/index-inline.js') },
  { name: `esbuild ${version('esbuild')} (+ copy recipe)`, kind: 'browser', build: esbuildBuild('src/index.js', copyKernelsBeside) },
  {
    name: `esbuild ${version('esbuild')} (no recipe)`,
    kind: 'browser',
    build: esbuildBuild('src/index.js'),
    expectFailure: /simd-linear: fetching the kernels from \S+\.wasm failed: HTTP 404/,
  },
  {
    name: `esbuild ${version('esbuild')} (recipe without worker.js)`,
    kind: 'browser',
    build: esbuildBuild('src/index.js', copyKernelsOnly),
    expectFailure: /simd-linear: worker 1 exited \(.*; its script: http:\/\/127\.0\.0\.1:\d+\/worker\.js\)/,
  },
  { name: `bun build ${version('bun')} (+ copy recipe)`, kind: 'browser', build: bunBuild },
  { name: `node ${process.versions.node} ESM`, kind: 'runtime', command: [process.execPath, 'src/node-esm.mjs'] },
  { name: `node ${process.versions.node} require`, kind: 'runtime', command: [process.execPath, 'src/node-cjs.cjs'] },
  ...OTHER_NODES.map((node) => ({ name: `node ${node} ESM`, kind: 'runtime', command: [...nodeAt(node), 'src/node-esm.mjs'] })),
  { name: `bun ${version('bun')}`, kind: 'runtime', command: [bun, 'src/node-esm.mjs'] },
  { name: `bun ${version('bun')} require`, kind: 'runtime', command: [bun, 'src/node-cjs.cjs'] },
  { name: `deno ${version('deno')} --allow-read`, kind: 'runtime', command: [deno, 'run', '--allow-read', 'src/node-esm.mjs'] },
  { name: `deno ${version('deno')} (/inline, no permissions)`, kind: 'runtime', command: [deno, 'run', 'src/inline-esm.mjs'] },
  {
    name: `deno ${version('deno')} (no permissions)`,
    kind: 'runtime',
    command: [deno, 'run', 'src/node-esm.mjs'],
    expectFailure: /cannot read the kernels at file:\S+\.wasm: .*--allow-read.*or import simd-linear\/inline/,
  },
];
