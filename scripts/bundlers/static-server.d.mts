// Types of static-server.mjs, for the TypeScript that imports it (demo/serve.ts).
export interface StaticServer {
  /** http://127.0.0.1:<port>/ */
  url: string;
  close(): Promise<void>;
}

export function startStaticServer(options: {
  /** URL prefix → directory or file; the longest matching prefix wins. */
  mounts: Record<string, string>;
  /** Added to every response. */
  headers?: Record<string, string>;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
}): Promise<StaticServer>;
