// The packed package as a consumer's tools see it. Type-checks a consumer (consumer.ts, and
// errors.ts: what the types must refuse) under the settings users run: skipLibCheck off, strict,
// exactOptionalPropertyTypes, noUncheckedIndexedAccess; module nodenext (ESM and CommonJS), node16
// and bundler; a Node config (ES2022 + @types/node, no DOM) and a browser config (ES2022 + DOM, no
// Node types); TypeScript 5.9 and 6.x. Then publint and attw on the tarball. Exit code 1 if
// anything reports an error.
//
//   node scripts/types/run.mjs [--keep]      (npm run test:package)
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { installTarball, pack, repo } from '../tarball.mjs';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const here = fileURLToPath(new URL('./', import.meta.url));
const keep = process.argv.includes('--keep');

const compilers = ['typescript', 'typescript6'].map((name) => ({
  name: `TypeScript ${require(`${name}/package.json`).version}`,
  tsc: require.resolve(`${name}/bin/tsc`),
}));

const strict = { strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, skipLibCheck: false, noEmit: true };
const node = { lib: ['ES2022'], types: ['node'] };
const browser = { lib: ['ES2022', 'DOM'], types: [] };
/** name, package.json "type", compilerOptions. */
const configurations = [
  ['nodenext ESM, Node', 'module', { module: 'nodenext', ...node }],
  ['nodenext CommonJS, Node', 'commonjs', { module: 'nodenext', ...node }],
  ['node16 ESM, Node', 'module', { module: 'node16', ...node }],
  ['bundler, browser', 'module', { module: 'esnext', moduleResolution: 'bundler', ...browser }],
  ['bundler, Node', 'module', { module: 'esnext', moduleResolution: 'bundler', ...node }],
];

/** The sources for one package type: CommonJS cannot await at the top level, so there the statements go in a function. */
async function sources(dir, type) {
  for (const file of ['consumer.ts', 'errors.ts']) {
    let text = await readFile(join(here, file), 'utf8');
    if (type === 'commonjs') {
      const lines = text.split('\n').filter((line) => !line.startsWith('export {'));
      const imports = lines.filter((line) => line.startsWith('import '));
      const body = lines.filter((line) => !line.startsWith('import '));
      text = `${imports.join('\n')}\nexport async function main() {\n${body.join('\n')}\n}\n`;
    }
    await writeFile(join(dir, file), text);
  }
}

/**
 * publint, and attw with two exceptions: ./worker is a script to host (init's options.worker),
 * not a module to import, so it has no types; and a require() of this ESM-only package is what
 * attw's node16-from-CJS rule warns of, but Node ≥ 20.19 (the engines field) loads it, and
 * TypeScript's nodenext accepts it (the CommonJS configuration above type-checks).
 */
async function lint(tarball) {
  let failed = 0;
  const tools = [
    ['publint', ['run', tarball, '--strict']],
    ['attw', [tarball, '--exclude-entrypoints', './worker', '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'table-flipped']],
  ];
  for (const [name, args] of tools) {
    const { stdout, stderr, code } = await run(join(repo, 'node_modules', '.bin', name), args, { cwd: repo }).catch((error) => error);
    const ok = !code;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok ? '' : `\n${`${stdout}${stderr}`.trim().replace(/^/gm, '    ')}`}`);
    if (!ok) failed++;
  }
  return failed;
}

const root = await mkdtemp(join(tmpdir(), 'simd-linear-types-'));
let failures = 0;
try {
  const tarball = await pack(root);
  const project = join(root, 'consumer');
  await mkdir(project);
  await writeFile(join(project, 'package.json'), '{ "name": "consumer", "private": true }\n');
  await installTarball(project, tarball);
  // @types/node from this repository, as the consumer's own.
  await cp(join(repo, 'node_modules', '@types'), join(project, 'node_modules', '@types'), { recursive: true });
  await cp(join(repo, 'node_modules', 'undici-types'), join(project, 'node_modules', 'undici-types'), { recursive: true }).catch(() => {});
  for (const [name, type, options] of configurations) {
    const dir = join(project, name.replace(/\W+/g, '-'));
    await mkdir(dir);
    await writeFile(join(dir, 'package.json'), JSON.stringify({ type }));
    await sources(dir, type);
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', ...strict, ...options, typeRoots: [join(project, 'node_modules', '@types')] },
      files: ['consumer.ts', 'errors.ts'],
    }, null, 2));
    for (const { name: compiler, tsc } of compilers) {
      const { stdout } = await run(process.execPath, [tsc, '-p', dir], { cwd: dir }).catch((error) => error);
      const errors = `${stdout ?? ''}`.trim();
      console.log(`${errors ? 'FAIL' : 'ok  '} ${compiler}, ${name}${errors ? `\n${errors.replace(/^/gm, '    ')}` : ''}`);
      if (errors) failures++;
    }
  }
  failures += await lint(tarball);
} finally {
  if (keep) console.log(`kept ${root}`);
  else await rm(root, { recursive: true, force: true });
}
process.exitCode = failures > 0 ? 1 : 0;
