// The browser host: the same renderer and the same contract handlers, served over HTTP on
// 127.0.0.1 for machines without the Electron binary (and for Playwright). Everything is behind a
// per-launch secret: opening /?token=<token> once sets an HttpOnly, SameSite=Strict cookie; every
// other request needs that cookie (or the X-Countersign-Token header). Host and Origin headers are
// checked so that a web page in another tab cannot reach the API through DNS rebinding or CSRF.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { ContractEventName, ContractHandlers } from '../../shared/contract';
import { contentSecurityPolicy } from '../contentSecurityPolicy';
import {
  describeForLog,
  dispatchContractCall,
  isChannel,
  publicErrorMessage,
} from '../ipc/dispatchContractCall';

export interface BrowserHostOptions {
  handlers: ContractHandlers;
  /** The built renderer (out/renderer): the only folder whose files are served. */
  rendererDir: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Only loopback is supported; the option exists to make that explicit at the call site. */
  host?: '127.0.0.1';
  log?: (line: string) => void;
  /** Pushed events (contractEvents), streamed to the page as Server-Sent Events on GET /events. */
  subscribe?: (listener: (event: ContractEventName, payload: unknown) => void) => () => void;
  /**
   * The folder of exported inspection packets, offered as downloads on GET /downloads/<file name>
   * (the browser host's "save as": Electron shows a save dialog instead).
   */
  downloadsDir?: string;
}

/** The file names an export writes (exportService.ts): nothing else is ever served as a download. */
const downloadName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.zip$/;

export interface BrowserHost {
  /** The URL to open: it carries the launch token (`http://127.0.0.1:<port>/?token=<token>`). */
  url: string;
  /** `http://127.0.0.1:<port>`, without the token. */
  origin: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

export const tokenCookieName = 'cs_token';
export const tokenHeaderName = 'x-countersign-token';
// The largest request the contract allows is a signing ceremony of 10,000 records (about 1.5 MB).
export const maxRequestBodyBytes = 4 * 1024 * 1024;

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

const securityHeaders: Record<string, string> = {
  'Content-Security-Policy': contentSecurityPolicy,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  // Everything here is per launch and behind a token: nothing is worth a disk cache.
  'Cache-Control': 'no-store',
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startBrowserHost(options: BrowserHostOptions): Promise<BrowserHost> {
  const log = options.log ?? ((line: string) => console.error(line));
  const host = options.host ?? '127.0.0.1';
  const rendererDir = await realpath(resolve(options.rendererDir));
  const token = randomBytes(32).toString('base64url');
  const tokenDigest = sha256(token);
  let port = 0;

  const isValidToken = (candidate: string | undefined): boolean =>
    candidate !== undefined && timingSafeEqual(sha256(candidate), tokenDigest);

  const server: Server = createServer((request, response) => {
    handleRequest(request, response).catch((error: unknown) => {
      if (error instanceof HttpError) {
        sendText(response, error.status, error.message);
        return;
      }
      log(`countersign browser host: ${request.method} ${pathOf(request.url)} failed: ${stackOf(error)}`);
      sendText(response, 500, 'Internal error; the details are in the host log.');
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;

  async function handleRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // DNS rebinding: a hostile name resolving to 127.0.0.1 still sends its own name as Host.
    const hostHeader = (request.headers.host ?? '').toLowerCase();
    if (hostHeader !== `127.0.0.1:${port}` && hostHeader !== `localhost:${port}`) {
      throw new HttpError(
        421,
        'Misdirected request: use http://127.0.0.1 with the port Countersign printed.',
      );
    }
    const origin = request.headers.origin;
    if (
      origin !== undefined &&
      origin !== `http://127.0.0.1:${port}` &&
      origin !== `http://localhost:${port}`
    ) {
      throw new HttpError(403, 'Cross-origin requests are refused.');
    }

    const rawUrl = request.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    const rawPath = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);
    const query = new URLSearchParams(queryStart === -1 ? '' : rawUrl.slice(queryStart + 1));

    const offeredToken = query.get('token');
    if (rawPath === '/' && offeredToken !== null && (request.method === 'GET' || request.method === 'HEAD')) {
      if (!isValidToken(offeredToken)) {
        throw new HttpError(
          401,
          'This link does not carry the current launch token; use the URL printed at start.',
        );
      }
      response.writeHead(303, {
        ...securityHeaders,
        'Set-Cookie': `${tokenCookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        Location: '/',
      });
      response.end();
      return;
    }

    const headerToken = request.headers[tokenHeaderName];
    const presented = typeof headerToken === 'string' ? headerToken : readCookie(request, tokenCookieName);
    if (!isValidToken(presented)) {
      throw new HttpError(
        401,
        'Not signed in to this host: open the URL (with ?token=) printed when Countersign started.',
      );
    }

    if (rawPath.startsWith('/api/')) {
      await handleApi(request, response, rawPath.slice('/api/'.length));
    } else if (rawPath === '/events') {
      streamEvents(request, response);
    } else if (rawPath.startsWith('/downloads/')) {
      await serveDownload(request, response, safeDecode(rawPath.slice('/downloads/'.length)));
    } else {
      await serveStatic(request, response, rawPath);
    }
  }

  async function handleApi(
    request: IncomingMessage,
    response: ServerResponse,
    rawChannel: string,
  ): Promise<void> {
    if (request.method !== 'POST') {
      response.setHeader('Allow', 'POST');
      throw new HttpError(405, 'Use POST for /api/<channel>.');
    }
    const channel = safeDecode(rawChannel);
    if (!isChannel(channel)) throw new HttpError(404, `Unknown channel "${channel}".`);

    const mediaType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (mediaType !== 'application/json') {
      throw new HttpError(415, 'Send the request as Content-Type: application/json.');
    }
    const text = await readBody(request);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      sendJson(response, 400, { error: `Malformed JSON in the request for ${channel}.` });
      return;
    }

    const result = await dispatchContractCall(options.handlers, channel, body);
    if (result.ok) {
      sendJson(response, 200, result.response);
      return;
    }
    const error = result.error;
    if (error.kind === 'invalid-request') {
      sendJson(response, 400, { error: publicErrorMessage(error) });
    } else if (error.kind === 'unknown-channel') {
      sendJson(response, 404, { error: publicErrorMessage(error) });
    } else {
      log(`countersign browser host: ${describeForLog(error)}`);
      sendJson(response, 500, { error: publicErrorMessage(error) });
    }
  }

  // Server-Sent Events, behind the same token as the API: one `event: <name>` + JSON `data:` per push.
  function streamEvents(request: IncomingMessage, response: ServerResponse): void {
    if (request.method !== 'GET') {
      response.setHeader('Allow', 'GET');
      throw new HttpError(405, 'Use GET for /events.');
    }
    response.writeHead(200, {
      ...securityHeaders,
      'Content-Type': 'text/event-stream; charset=utf-8',
      Connection: 'keep-alive',
    });
    response.write(': countersign events\n\n');
    const unsubscribe =
      options.subscribe?.((event, payload) => {
        response.write(`event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`);
      }) ?? (() => undefined);
    request.on('close', unsubscribe);
  }

  async function serveDownload(
    request: IncomingMessage,
    response: ServerResponse,
    name: string,
  ): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      throw new HttpError(405, 'Only GET and HEAD are served here.');
    }
    const dir = options.downloadsDir;
    if (!dir || !downloadName.test(name)) throw new HttpError(404, 'No such download.');
    const file = await resolveInside(await realpath(dir).catch(() => dir), name);
    if (file === null) throw new HttpError(404, 'No such download.');
    const content = await readFile(file);
    response.writeHead(200, {
      ...securityHeaders,
      'Content-Type': 'application/zip',
      'Content-Length': String(content.byteLength),
      'Content-Disposition': `attachment; filename="${name}"`,
    });
    response.end(request.method === 'HEAD' ? undefined : content);
  }

  async function serveStatic(
    request: IncomingMessage,
    response: ServerResponse,
    rawPath: string,
  ): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      throw new HttpError(405, 'Only GET and HEAD are served here.');
    }
    const path = safeDecode(rawPath);
    const segments = path.split('/');
    if (path.includes('\0') || path.includes('\\') || segments.some((s) => s === '..' || s === '.')) {
      throw new HttpError(403, 'Forbidden path.');
    }

    let file = await resolveInside(rendererDir, path === '/' ? 'index.html' : path.slice(1));
    if (file === null) {
      // SPA fallback: a path without an extension is a client-side route; a missing asset is a 404.
      if (extname(path) !== '') throw new HttpError(404, 'Not found.');
      file = join(rendererDir, 'index.html');
    }
    const content = await readFile(file);
    response.writeHead(200, {
      ...securityHeaders,
      'Content-Type': contentTypes[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': String(content.byteLength),
    });
    response.end(request.method === 'HEAD' ? undefined : content);
  }

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://${host}:${port}`;

  return {
    url: `${origin}/?token=${token}`,
    origin,
    token,
    port,
    close: () =>
      new Promise<void>((resolveClose, rejectClose) => {
        server.close((error) => (error ? rejectClose(error) : resolveClose()));
        server.closeAllConnections();
      }),
  };
}

/** The real path of `relativePath` inside `root`, or null if it is missing, not a file, or outside. */
async function resolveInside(root: string, relativePath: string): Promise<string | null> {
  const candidate = resolve(root, relativePath);
  if (!isWithin(root, candidate)) return null;
  try {
    const real = await realpath(candidate); // follows symlinks: the target must be inside too
    if (!isWithin(root, real)) return null;
    return (await stat(real)).isFile() ? real : null;
  } catch {
    return null;
  }
}

function isWithin(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

function readBody(request: IncomingMessage): Promise<string> {
  const declared = Number(request.headers['content-length'] ?? '0');
  if (declared > maxRequestBodyBytes) {
    return Promise.reject(new HttpError(413, 'Request body too large (limit 4 MB).'));
  }
  return new Promise((resolveBody, rejectBody) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxRequestBodyBytes) {
        rejectBody(new HttpError(413, 'Request body too large (limit 4 MB).'));
        request.pause();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    request.on('error', rejectBody);
  });
}

function readCookie(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const separator = part.indexOf('=');
    if (separator !== -1 && part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return undefined;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new HttpError(400, 'Malformed URL encoding.');
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...securityHeaders,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  response.end(text);
}

function sendText(response: ServerResponse, status: number, message: string): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const extra: Record<string, string> = status === 413 ? { Connection: 'close' } : {};
  response.writeHead(status, {
    ...securityHeaders,
    ...extra,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(message)),
  });
  response.end(message);
}

function pathOf(url: string | undefined): string {
  return (url ?? '/').split('?')[0] ?? '/';
}

function stackOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
