// The `rerender://` scheme: `rerender://app/...` serves the built renderer, and
// `rerender://media/<route>` forwards to the services' media reader (Range and ETag honoured
// there). Fetch-API Request/Response in, so it is testable without Electron.
import { readFile } from 'node:fs/promises';
import { APP_HOST, APP_SCHEME, MEDIA_HOST } from './app-origin.ts';
import type { MediaReply, MediaRequest } from './services-messages.ts';
import { cacheControl, mimeType, resolveStatic } from '../serve/static-files.ts';

export interface ProtocolHandlerOptions {
  rendererDir: string;
  media: (route: string, req: MediaRequest) => Promise<MediaReply>;
}

const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}

/** `rerender://media/<route>` → the route, percent-decoded; null when the encoding is malformed. */
function mediaRoute(pathname: string): string | null {
  let route: string;
  try {
    route = decodeURIComponent(pathname.replace(/^\/+/, ''));
  } catch {
    return null; // URIError on a lone `%` or an invalid UTF-8 sequence
  }
  return route.includes('\0') ? null : route;
}

export function createProtocolHandler(opts: ProtocolHandlerOptions) {
  const handle = routeRequest(opts);
  // A rejected handler becomes an opaque network error in the renderer: answer 500 instead.
  return async (request: Request): Promise<Response> => {
    try {
      return await handle(request);
    } catch (err) {
      return text(500, err instanceof Error ? err.message : String(err));
    }
  };
}

function routeRequest(opts: ProtocolHandlerOptions) {
  return async (request: Request): Promise<Response> => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return text(400, 'bad url');
    }
    if (url.protocol !== `${APP_SCHEME}:`) return text(404, 'not found');
    if (request.method !== 'GET' && request.method !== 'HEAD') return text(405, 'method not allowed');

    if (url.host === MEDIA_HOST) {
      const route = mediaRoute(url.pathname);
      if (route === null) return text(400, 'bad media path');
      const req: MediaRequest = {};
      const range = request.headers.get('range');
      const inm = request.headers.get('if-none-match');
      if (range) req.range = range;
      if (inm) req.ifNoneMatch = inm;
      try {
        const reply = await opts.media(route, req);
        const headers = new Headers(reply.headers);
        headers.set('access-control-allow-origin', APP_ORIGIN);
        const body = reply.body && request.method === 'GET' && reply.status !== 304 ? Buffer.from(reply.body) : null;
        return new Response(body, { status: reply.status, headers });
      } catch (err) {
        return text(500, err instanceof Error ? err.message : String(err));
      }
    }

    if (url.host === APP_HOST) {
      const file = resolveStatic(opts.rendererDir, url.pathname);
      if (!file) return text(403, 'forbidden');
      try {
        const data = await readFile(file);
        return new Response(request.method === 'HEAD' ? null : data, {
          status: 200,
          headers: { 'content-type': mimeType(file), 'cache-control': cacheControl(url.pathname) },
        });
      } catch {
        return text(404, 'not found');
      }
    }
    return text(404, 'not found');
  };
}
