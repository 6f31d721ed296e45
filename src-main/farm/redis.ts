// Redis connection options from a URL: redis:// or rediss:// (TLS), with an optional user,
// password and database number. The password is never printed: `redactRedisUrl` is what logs show.
import type { RedisOptions } from 'ioredis';
import { FarmError } from './errors.ts';

export interface RedisTarget {
  options: RedisOptions;
  /** The URL with its password replaced, for messages. */
  display: string;
}

export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable Redis URL)';
  }
}

/**
 * Options for ioredis. Workers need `maxRetriesPerRequest: null` (BullMQ's blocking commands
 * must wait out a Redis restart rather than fail), and reconnection keeps trying, backing off to 2 s.
 */
export function redisOptionsFromUrl(url: string): RedisTarget {
  if (typeof url !== 'string' || url.trim() === '') throw new FarmError('INVALID_ARGUMENT', 'a Redis URL is needed, e.g. redis://localhost:6379 or rediss://:password@host:6380');
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new FarmError('INVALID_ARGUMENT', `not a Redis URL: '${redactRedisUrl(url)}' (expected redis://[user:password@]host[:port][/db] or rediss://…)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new FarmError('INVALID_ARGUMENT', `a Redis URL starts with redis:// or rediss:// (TLS), got '${u.protocol}//'`);
  }
  if (u.hostname === '') throw new FarmError('INVALID_ARGUMENT', `the Redis URL ${redactRedisUrl(url)} has no host`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d{1,2}$/.test(dbText)) throw new FarmError('INVALID_ARGUMENT', `the Redis database in ${redactRedisUrl(url)} must be a number, got '${dbText}'`);
  // IPv6 literals come bracketed from URL; ioredis wants them bare.
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const options: RedisOptions = {
    host,
    port,
    db: dbText === '' ? 0 : Number(dbText),
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(100 * times, 2000),
  };
  if (u.username) options.username = decodeURIComponent(u.username);
  if (u.password) options.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') options.tls = { servername: host };
  return { options, display: redactRedisUrl(url) };
}

/**
 * Fails fast, with REDIS_UNAVAILABLE, when Redis cannot be reached or refuses the password: the
 * farm's own clients wait out outages instead, which would only look like a hang here.
 */
export async function checkRedis(target: RedisTarget, timeoutMs = 5000): Promise<void> {
  const { Redis } = await import('ioredis');
  const probe = new Redis({ ...target.options, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs, lazyConnect: true, enableOfflineQueue: false });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(target.options.password ?? '\u0000', '***') : String(err);
    throw new FarmError('REDIS_UNAVAILABLE', `cannot reach Redis at ${target.display}: ${why}`);
  } finally {
    probe.disconnect();
  }
}
