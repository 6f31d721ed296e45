// Browser mode's access token. The Host/Origin checks stop web pages; they do not stop another
// local user's process (or anyone reaching an SSH-tunnelled port) from talking to the server, so
// every request also needs this per-launch secret. The printed URL carries it once as
// `?token=`; the server trades it for an HttpOnly cookie and redirects to the clean URL (the
// token then stays out of the history and of Referer headers). Scripts may send
// `Authorization: Bearer <token>` instead.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';

/** 256 random bits, base64url. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** A caller-chosen token must be long enough to guess-proof and safe in a URL and a cookie. */
export function validToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{22,}$/.test(token);
}

/** Cookies are not port-scoped: two servers on one machine must not overwrite each other's. */
export function cookieName(port: number): string {
  return `rerender_token_${port}`;
}

/** Constant-time equality; hashing first makes the lengths equal and hides the length too. */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

function bearer(header: string | undefined): string | null {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m ? m[1]! : null;
}

/** Whether the request carries the token in its Authorization header or in our cookie. */
export function hasToken(req: http.IncomingMessage, token: string, port: number): boolean {
  const given = bearer(req.headers.authorization) ?? cookieValue(req.headers.cookie, cookieName(port));
  return given !== null && tokensEqual(given, token);
}

export function setCookieHeader(token: string, port: number): string {
  return `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

export const UNAUTHORIZED_TEXT =
  'Rerender Studio needs its access token: open the URL printed in the terminal where the server was started (it ends with ?token=...).\n';
