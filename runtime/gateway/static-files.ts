import { createReadStream, promises as fs } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** Serves files under `root` for GET and HEAD; "/" means index.html; nothing outside `root` is reachable. */
export function staticFileHandler(root: string | undefined) {
  const base = root && path.resolve(root);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!base || (req.method !== 'GET' && req.method !== 'HEAD')) return notFound(res);
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return notFound(res);
    }
    const file = path.join(base, pathname.endsWith('/') ? pathname + 'index.html' : pathname);
    if (file !== base && !file.startsWith(base + path.sep)) return notFound(res);
    try {
      const stat = await fs.stat(file);
      if (!stat.isFile()) return notFound(res);
      res.writeHead(200, {
        'content-type': contentTypes[path.extname(file)] ?? 'application/octet-stream',
        'content-length': stat.size,
        'cache-control': 'no-cache',
      });
      if (req.method === 'HEAD') return void res.end();
      createReadStream(file).on('error', () => res.destroy()).pipe(res);
    } catch {
      notFound(res);
    }
  };
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
}
