// Bundler smoke tests: packs simd-linear as npm would publish it, installs the tarball into
// throwaway consumer projects, builds one tiny app with each bundler, loads every build in Chromium
// (and runs the Node consumers), and prints a summary. Exit code 1 if any consumer fails.
//
//   node scripts/bundlers/run.mjs [--keep]     (--keep leaves the temp projects for inspection)
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { launchChromium, loadResult } from './browser.mjs';
import { startStaticServer } from './static-server.mjs';
import { targets } from './targets.mjs';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixture/', import.meta.url));
const keep = process.argv.includes('--keep');

/**
 * `npm pack` of the repository as built; the tarball's path. --ignore-scripts skips `prepare` (a full
 * rebuild): `npm run test:bundlers` and `npm test` build first, and a rebuild here would rewrite dist/
 * under the other test files running beside tests/bundlers.test.ts.
 */
async function pack(into) {
  if (!existsSync(join(repo, 'dist', 'index.js'))) throw new Error('dist/ is not built: run `npm run build` first');
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', into, '--loglevel=error'], { cwd: repo });
  const tarball = (await readdir(into)).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack left no .tgz in ${into}`);
  return join(into, tarball);
}

/** A consumer project with the fixture in src/ and the tarball installed; its tarball has no dependencies, so no registry traffic. */
async function consumer(root, index, tarball) {
  const dir = join(root, `consumer-${index}`);
  await mkdir(dir);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${index}`, private: true, type: 'module' }, null, 2));
  await cp(fixture, join(dir, 'src'), { recursive: true });
  await run('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: dir });
  return dir;
}

/** Bytes of JavaScript and of WebAssembly under `dir` (the page's .html is not counted). */
async function sizes(dir) {
  const total = { js: 0, wasm: 0, files: 0 };
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const ext = extname(entry.name);
    const bytes = (await stat(join(entry.parentPath, entry.name))).size;
    if (ext === '.js') total.js += bytes;
    if (ext === '.wasm') { total.wasm += bytes; total.files++; }
  }
  return total;
}

const kB = (bytes) => `${(bytes / 1024).toFixed(1)} kB`;
const describeSize = ({ js, wasm, files }) => `${kB(js)} JS` + (files ? ` + ${kB(wasm)} wasm (${files} files)` : '');

/** Builds (or, for Node, runs) one target; a row of the summary. */
async function check(target, dir, getBrowser) {
  const row = { name: target.name, build: '-', load: 'no', size: '-', detail: [] };
  if (target.kind === 'node') {
    row.build = 'n/a';
    try {
      const { stdout, stderr } = await run(process.execPath, [target.script], { cwd: dir });
      row.load = stdout.startsWith('PASS') ? 'yes' : 'no';
      row.detail.push(stdout.trim(), ...stderr.trim().split('\n').filter(Boolean));
    } catch (error) {
      row.detail.push(`${error.stdout ?? ''}${error.stderr ?? error.message}`.trim());
    }
    return row;
  }
  let built;
  try {
    built = await target.build(dir);
    row.build = 'yes';
    row.size = describeSize(await sizes(built.outDir));
    row.detail.push(...built.warnings.map((w) => `build warning: ${w.split('\n')[0]}`));
  } catch (error) {
    row.build = 'no';
    row.detail.push(`build: ${error.message}`);
    return row;
  }
  const server = await startStaticServer({ mounts: { '/': built.outDir } });
  try {
    const { result, problems } = await loadResult(await getBrowser(), server.url);
    row.detail.push(result, ...problems);
    if (target.expectFailure) row.load = target.expectFailure.test(result) ? 'fails as expected' : 'no';
    else row.load = result.startsWith('PASS') ? 'yes' : 'no';
  } finally {
    await server.close();
  }
  return row;
}

function printTable(rows) {
  const header = { name: 'consumer', build: 'build ok', load: 'load ok', size: 'bundle size' };
  const columns = Object.keys(header);
  const widths = columns.map((c) => Math.max(...[header, ...rows].map((r) => r[c].length)));
  const line = (r) => `| ${columns.map((c, i) => r[c].padEnd(widths[i])).join(' | ')} |`;
  console.log([line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n'));
}

const root = await mkdtemp(join(tmpdir(), 'simd-linear-bundlers-'));
let browser;
try {
  const started = performance.now();
  const tarball = await pack(root);
  console.log(`packed ${tarball} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  const rows = [];
  for (const [index, target] of targets.entries()) {
    process.stdout.write(`${target.name}: `);
    const started = performance.now();
    const dir = await consumer(root, index, tarball);
    const row = await check(target, dir, async () => (browser ??= await launchChromium()));
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`${row.load} (${seconds} s)\n${row.detail.map((d) => `    ${d}`).join('\n')}`);
    rows.push(row);
  }
  console.log();
  printTable(rows);
  process.exitCode = rows.every((r) => r.load !== 'no') ? 0 : 1;
} finally {
  await browser?.close();
  if (keep) console.log(`kept ${root}`);
  else await rm(root, { recursive: true, force: true });
}
