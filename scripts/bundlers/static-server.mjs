// A tiny static file server (node:http), shared by the bundler smoke tests and the demo. Browsers
// need real HTTP here: file: pages cannot fetch the .wasm, and streaming compilation wants the
// application/wasm MIME type.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, relative, resolve, isAbsolute } from 'node:path';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * Serves `mounts` (URL prefix → directory or file; the longest matching prefix wins) on 127.0.0.1,
 * adding `headers` to every answer. Port 0 picks a free port. Resolves once listening.
 */
export async function startStaticServer({ mounts, headers = {}, port = 0, host = '127.0.0.1' }) {
  const table = Object.entries(mounts).sort(([a], [b]) => b.length - a.length);
  const server = createServer(async (request, response) => {
    const file = await locate(table, new URL(request.url ?? '/', 'http://x').pathname);
    if (!file) {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end('not found\n');
      return;
    }
    response.writeHead(200, {
      'Content-Type': MIME[extname(file.path)] ?? 'application/octet-stream',
      'Content-Length': file.size,
      'Cache-Control': 'no-store',
      ...headers,
    });
    if (request.method === 'HEAD') response.end();
    else createReadStream(file.path).pipe(response);
  });
  await new Promise((done, fail) => server.once('error', fail).listen(port, host, done));
  const url = `http://${host}:${server.address().port}/`;
  return { url, close: () => new Promise((done) => server.close(done)) };
}

/** The file a path names under the mounts, or null; never a file outside them ('..' is refused). */
async function locate(table, pathname) {
  let path;
  try {
    path = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  for (const [prefix, target] of table) {
    if (path !== prefix && !(prefix.endsWith('/') && path.startsWith(prefix))) continue;
    const full = resolve(target, `./${path.slice(prefix.length)}`);
    const inside = relative(target, full);
    if (inside.startsWith('..') || isAbsolute(inside)) return null;
    const info = await stat(full).catch(() => null);
    if (info?.isFile()) return { path: full, size: info.size };
    if (info?.isDirectory()) {
      const index = await stat(join(full, 'index.html')).catch(() => null);
      if (index?.isFile()) return { path: join(full, 'index.html'), size: index.size };
    }
    return null;
  }
  return null;
}
