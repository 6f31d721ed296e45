// Exact rational arithmetic for frame rates, time bases and durations. Floats appear only
// transiently to compare magnitudes, never as stored time.
import type { Rational } from '../api/contract.ts';

export type { Rational };

function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

export function rational(num: number, den: number): Rational {
  if (!Number.isSafeInteger(num) || !Number.isSafeInteger(den) || den === 0) {
    throw new RangeError(`not a rational: ${num}/${den}`);
  }
  const sign = den < 0 ? -1 : 1;
  const g = gcd(num, den) || 1;
  return { num: (sign * num) / g, den: (sign * den) / g };
}

/** "24000/1001" or "25" → rational; "0/0", "N/A" or garbage → null. */
export function parseRational(text: string | undefined): Rational | null {
  if (!text) return null;
  const m = /^\s*(-?\d+)\s*(?:[/:]\s*(\d+))?\s*$/.exec(text);
  if (!m) return null;
  const num = Number(m[1]);
  const den = m[2] === undefined ? 1 : Number(m[2]);
  if (den === 0 || !Number.isSafeInteger(num) || !Number.isSafeInteger(den)) return null;
  return rational(num, den);
}

/** An exact decimal string such as ffprobe's "2.002000" → 2002/1000 reduced; null if not a decimal. */
export function parseDecimal(text: string | undefined): Rational | null {
  if (!text) return null;
  const m = /^\s*(-?)(\d+)(?:\.(\d+))?\s*$/.exec(text);
  if (!m) return null;
  const frac = (m[3] ?? '').slice(0, 9); // beyond nanoseconds nothing in a container is meaningful
  const num = Number(`${m[2]}${frac}`) * (m[1] === '-' ? -1 : 1);
  return rational(num, 10 ** frac.length);
}

export function mul(a: Rational, b: Rational): Rational {
  return rational(a.num * b.num, a.den * b.den);
}

export function add(a: Rational, b: Rational): Rational {
  return rational(a.num * b.den + b.num * a.den, a.den * b.den);
}

export function div(a: Rational, b: Rational): Rational {
  return rational(a.num * b.den, a.den * b.num);
}

export function equals(a: Rational, b: Rational): boolean {
  return a.num * b.den === b.num * a.den;
}

export function toNumber(r: Rational): number {
  return r.num / r.den;
}

/** "num/den", the form ffmpeg's rate options and filter expressions accept exactly. */
export function formatRational(r: Rational): string {
  return `${r.num}/${r.den}`;
}

/** Closest rational with denominator ≤ maxDen (continued fractions). */
export function approximate(x: number, maxDen: number): Rational {
  let [h0, h1, k0, k1] = [0, 1, 1, 0];
  let v = x;
  for (let i = 0; i < 64; i++) {
    const a = Math.floor(v);
    const h2 = a * h1 + h0;
    const k2 = a * k1 + k0;
    if (k2 > maxDen) break;
    [h0, h1, k0, k1] = [h1, h2, k1, k2];
    if (Math.abs(v - a) < 1e-12) break;
    v = 1 / (v - a);
  }
  return rational(h1, k1);
}

const STANDARD_RATES: readonly Rational[] = [
  [24000, 1001], [24, 1], [25, 1], [30000, 1001], [30, 1], [48, 1], [50, 1], [60000, 1001], [60, 1],
  [120, 1], [15, 1], [12, 1], [10, 1], [8, 1],
].map(([n, d]) => rational(n as number, d as number));

/** A measured average rate snapped to the broadcast rate it is meant to be (within 0.5%). */
export function snapFrameRate(measured: Rational): Rational {
  const x = toNumber(measured);
  let best: Rational | null = null;
  for (const r of STANDARD_RATES) {
    const err = Math.abs(toNumber(r) - x) / x;
    if (err < 0.005 && (best === null || err < Math.abs(toNumber(best) - x) / x)) best = r;
  }
  return best ?? approximate(x, 1001);
}
