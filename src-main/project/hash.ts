import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level, so equal parameter sets hash equally whatever order
 * their keys were built in. Only plain JSON values are accepted: a silently dropped or coerced field
 * would make two different parameter sets look the same.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, '$');
}

function encode(value: unknown, at: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`paramsHash: non-finite number at ${at}`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v, i) => encode(v, `${at}[${i}]`)).join(',')}]`;
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`paramsHash: only plain objects can be hashed (at ${at})`);
      }
      const rec = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const key of Object.keys(rec).sort()) {
        // Like JSON: an absent optional field and an undefined one mean the same thing.
        if (rec[key] === undefined) continue;
        parts.push(`${JSON.stringify(key)}:${encode(rec[key], `${at}.${key}`)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new TypeError(`paramsHash: cannot hash a ${typeof value} (at ${at})`);
  }
}

/** sha256 (hex) of the canonical JSON of `obj`: tags renders and translated key frames with what made them. */
export function paramsHash(obj: unknown): string {
  return createHash('sha256').update(canonicalJson(obj)).digest('hex');
}
