// Ground-truth quality benchmark for propagation (see quality.ts for the protocol).
//   node bench/quality/run.ts [--quick] [--clips megamind,vtest,megamind-x3,vtest-x4] [--styles paint,ink]
//        [--lengths 10,20,40] [--size 320x256] [--config ebsynth,ours] [--set '<json>']...
//        [--variant name='<json>']... [--json FILE] [--out DIR] [--media ../shared/media]
// --set is deep-merged into the options of "ours" only; each --variant is an extra row with
// the defaults deep-merged with its own JSON (not with --set).
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_CLIPS, clipByName, requireMedia } from './clips.ts';
import { EBSYNTH, runQuality } from './quality.ts';
import type { ConfigSpec } from './quality.ts';
import { formatReport, summarise } from './report.ts';
import { STYLE_NAMES } from './styles.ts';
import type { PropagateOptions } from '../../src-main/propagate/settings.ts';
import { resolveSettings } from '../../src-main/propagate/settings.ts';

const { values: a } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    clips: { type: 'string' },
    styles: { type: 'string' },
    lengths: { type: 'string' },
    size: { type: 'string', default: '320x256' },
    config: { type: 'string', default: 'ebsynth,ours' },
    set: { type: 'string', multiple: true, default: [] },
    variant: { type: 'string', multiple: true, default: [] },
    json: { type: 'string' },
    out: { type: 'string' },
    media: { type: 'string', default: '../shared/media' },
  },
});

function fail(msg: string): never {
  console.error(`bench:quality: ${msg}`);
  process.exit(1);
}

function list(v: string | undefined, dflt: readonly string[]): string[] {
  return v === undefined ? [...dflt] : v.split(',').map((s) => s.trim()).filter(Boolean);
}

function parseJson(what: string, text: string): PropagateOptions {
  let v: unknown;
  try { v = JSON.parse(text); } catch (err) { fail(`${what} is not valid JSON: ${(err as Error).message}`); }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${what} must be a JSON object`);
  return v as PropagateOptions;
}

/** Objects merge key by key; anything else replaces. */
function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
      ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}

const sizeMatch = /^(\d+)x(\d+)$/.exec(a.size);
if (!sizeMatch) fail(`--size must be WxH, got ${a.size}`);
const [width, height] = [Number(sizeMatch[1]), Number(sizeMatch[2])];
if (width < 32 || height < 32) fail(`--size must be at least 32x32, got ${a.size}`);

const clips = list(a.clips, a.quick ? ['megamind'] : DEFAULT_CLIPS).map((n) => { try { return clipByName(n); } catch (e) { return fail((e as Error).message); } });
const styles = list(a.styles, a.quick ? ['paint'] : ['paint', 'ink']);
for (const s of styles) if (!(STYLE_NAMES as readonly string[]).includes(s)) fail(`unknown style ${s}; one of ${STYLE_NAMES.join(', ')}`);
const lengths = list(a.lengths, a.quick ? ['10'] : ['10', '20', '40']).map(Number);
for (const l of lengths) if (!Number.isInteger(l) || l < 3) fail(`--lengths must be integers >= 3, got ${a.lengths}`);

const ours = a.set.reduce<Record<string, unknown>>((o, s) => deepMerge(o, parseJson('--set', s) as Record<string, unknown>), {});
const configs: ConfigSpec[] = [];
for (const name of list(a.config, [])) {
  if (name === 'ebsynth') configs.push(EBSYNTH);
  else if (name === 'ours') configs.push({ name: 'ours', kind: 'propagate', options: ours as PropagateOptions });
  else fail(`unknown --config ${name}; ebsynth, ours (extra rows with --variant name='<json>')`);
}
for (const v of a.variant) {
  const eq = v.indexOf('=');
  if (eq <= 0) fail(`--variant must be name='<json>', got ${v}`);
  const name = v.slice(0, eq);
  if (configs.some((c) => c.name === name)) fail(`config name ${name} is used twice`);
  configs.push({ name, kind: 'propagate', options: parseJson(`--variant ${name}`, v.slice(eq + 1)) });
}
if (configs.length === 0) fail('no configuration selected');
// Bad option values fail here, before minutes of decoding and flow.
for (const c of configs) { try { resolveSettings(c.options); } catch (e) { fail(`${c.name}: ${(e as Error).message}`); } }

requireMedia(a.media, clips);
console.error(`bench:quality: clips ${clips.map((c) => c.name).join(',')}; styles ${styles.join(',')}; lengths ${lengths.join(',')}; ${width}x${height}; configs ${configs.map((c) => `${c.name}=${JSON.stringify(c.options)}`).join(' ')}`);
const t0 = performance.now();
const result = await runQuality({ mediaDir: a.media, clips, styles, lengths, width, height, configs, outDir: a.out, log: (l) => console.error(l) });
console.log(formatReport(result));
console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
if (a.json) {
  writeFileSync(a.json, JSON.stringify({ ...result, configs, summary: summarise(result.rows) }, null, 2));
  console.error(`figures written to ${a.json}`);
}
if (result.images.length) console.error(`mid-frame images (source | truth | ${configs.map((c) => c.name).join(' | ')}): ${result.images.join(', ')}`);
