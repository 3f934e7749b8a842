// Bundler smoke tests: packs simd-linear as npm would publish it, installs the tarball into
// throwaway consumer projects, builds one tiny app with each bundler, loads every build in Chromium
// and Firefox ESR on a cross-origin-isolated page (two threads; one for /inline), runs the Node
// consumers (Node 20/22/24, Bun, Deno), and prints a summary. Exit code 1 if any consumer fails.
//
//   node scripts/bundlers/run.mjs [--keep]     (--keep leaves the temp projects for inspection)
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { launchChromium, launchFirefox, loadResult } from './browser.mjs';
import { startStaticServer } from './static-server.mjs';
import { installTarball, pack } from '../tarball.mjs';
import { targets } from './targets.mjs';

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('./fixture/', import.meta.url));
const keep = process.argv.includes('--keep');

/** A consumer project with the fixture in src/ and the tarball installed. */
async function consumer(root, index, tarball) {
  const dir = join(root, `consumer-${index}`);
  await mkdir(dir);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${index}`, private: true, type: 'module' }, null, 2));
  await cp(fixture, join(dir, 'src'), { recursive: true });
  await installTarball(dir, tarball);
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

/** 'yes', 'fails as expected' or 'no': every result passed, or failed as the target says it must (a documented limitation). */
function verdict(target, results) {
  const expected = (result) => (target.expectFailure ? target.expectFailure.test(result) : result.startsWith('PASS'));
  if (!results.every(expected)) return 'no';
  return target.expectFailure ? 'fails as expected' : 'yes';
}

/** COOP/COEP: the page is cross-origin isolated, so SharedArrayBuffer and threads are there. */
const ISOLATED = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** Builds (or, for Node, runs) one target; a row of the summary. `browsers`: name → a launcher of one, started once. */
async function check(target, dir, browsers) {
  const row = { name: target.name, build: '-', load: 'no', size: '-', detail: [] };
  if (target.kind === 'runtime') {
    row.build = 'n/a';
    const [command, ...args] = target.command;
    const { stdout, stderr } = await run(command, args, { cwd: dir }).catch((error) => error);
    const result = `${stdout ?? ''}`.trim();
    row.load = verdict(target, [result]);
    row.detail.push(result, ...`${stderr ?? ''}`.trim().split('\n').filter(Boolean));
    return row;
  }
  let server;
  if (target.serve) {
    row.build = 'n/a';
    server = await target.serve(dir, ISOLATED);
  } else {
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
    server = await startStaticServer({ mounts: { '/': built.outDir }, headers: ISOLATED });
  }
  try {
    const results = [];
    for (const [name, browser] of Object.entries(browsers)) {
      const { result, problems } = await loadResult(await browser(), server.url);
      row.detail.push(`${name}: ${result}`, ...problems.map((problem) => `${name}: ${problem}`));
      results.push(result);
    }
    row.load = verdict(target, results);
  } finally {
    await server.close();
  }
  return row;
}

function printTable(rows) {
  const header = { name: 'consumer', build: 'build ok', load: 'runs (browsers: Chromium and Firefox)', size: 'bundle size' };
  const columns = Object.keys(header);
  const widths = columns.map((c) => Math.max(...[header, ...rows].map((r) => r[c].length)));
  const line = (r) => `| ${columns.map((c, i) => r[c].padEnd(widths[i])).join(' | ')} |`;
  console.log([line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n'));
}

const root = await mkdtemp(join(tmpdir(), 'simd-linear-bundlers-'));
const launched = {};
/** Each browser is launched on first use and closed at the end. */
const browsers = {
  chromium: () => (launched.chromium ??= launchChromium()),
  firefox: () => (launched.firefox ??= launchFirefox()),
};
try {
  const started = performance.now();
  const tarball = await pack(root);
  console.log(`packed ${tarball} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  const rows = [];
  for (const [index, target] of targets.entries()) {
    process.stdout.write(`${target.name}: `);
    const started = performance.now();
    const dir = await consumer(root, index, tarball);
    const row = await check(target, dir, browsers);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`${row.load} (${seconds} s)\n${row.detail.map((d) => `    ${d}`).join('\n')}`);
    rows.push(row);
  }
  console.log();
  printTable(rows);
  process.exitCode = rows.every((r) => r.load !== 'no') ? 0 : 1;
} finally {
  for (const browser of Object.values(launched)) await (await browser.catch(() => null))?.close();
  if (keep) console.log(`kept ${root}`);
  else await rm(root, { recursive: true, force: true });
}
