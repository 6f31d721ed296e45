// Small helpers over node:util parseArgs that turn mistakes into UsageErrors.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../command.ts';
import { PRECISIONS, isPrecision, type Precision } from '../../engine/runtime/precision.ts';

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, positionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  if (parsed.positionals.length !== positionals) {
    throw new UsageError(`expected ${positionals} argument${positionals === 1 ? '' : 's'}, got ${parsed.positionals.length}`);
  }
  return parsed;
}

export function intOption(value: string | undefined, name: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`--${name} needs a whole number ≥ ${min}, got '${value}'`);
  return Number(value);
}

/** --precision as given; undefined when absent, so a project's own choice can apply. */
export function precisionOption(value: string | undefined): Precision | undefined {
  if (value === undefined) return undefined;
  if (!isPrecision(value)) throw new UsageError(`--precision must be one of ${PRECISIONS.join(', ')}, got '${value}'`);
  return value;
}

export function cropOption(value: string | undefined) {
  if (value === undefined) return undefined;
  const parts = value.split(',');
  if (parts.length !== 4 || parts.some((p) => !/^\d+$/.test(p.trim()))) {
    throw new UsageError(`--crop needs four whole numbers of pixels 'left,right,top,bottom', got '${value}'`);
  }
  const [left, right, top, bottom] = parts.map((p) => Number(p.trim())) as [number, number, number, number];
  return { left, right, top, bottom };
}
