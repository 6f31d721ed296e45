// bench:quality's quick run twice: with the flows as computed, and with every flow sent through
// the cache's compact encoding and back (what a cached project propagates along), to show the
// quantisation costs nothing measurable at the end.
//   node bench/flow/quality-quantised.ts [--clips megamind] [--styles paint] [--lengths 10] [--size 320x256]
import { parseArgs } from 'node:util';
import { clipByName, requireMedia } from '../quality/clips.ts';
import { runQuality } from '../quality/quality.ts';
import type { ConfigSpec } from '../quality/quality.ts';
import { loadPropagateAddon } from '../../src-main/propagate/native.ts';
import type { PropagateAddon } from '../../src-main/propagate/native.ts';
import { decodeFlow, encodeFlow } from '../../src-main/studio/flow-cache.ts';
import { loadFlowCodec } from '../../src-main/propagate/flow-codec.ts';

const { values: a } = parseArgs({ options: {
  clips: { type: 'string', default: 'megamind' }, styles: { type: 'string', default: 'paint' },
  lengths: { type: 'string', default: '10' }, size: { type: 'string', default: '320x256' }, media: { type: 'string', default: '../shared/media' },
} });
const [width, height] = (a.size ?? '').split('x').map(Number) as [number, number];
const clips = (a.clips ?? '').split(',').map(clipByName);
requireMedia(a.media ?? '', clips);
const exact = loadPropagateAddon();
const codec = loadFlowCodec();
const roundTrip = async (f: Float32Array, w: number, h: number): Promise<Float32Array> => {
  const back = await decodeFlow(codec, await encodeFlow(codec, f, w, h), w, h);
  if (!back) throw new Error('flow round trip failed');
  return back;
};
const quantised: PropagateAddon = {
  ...exact,
  computeFlow: async (x, y, method, signal) => {
    const f = await exact.computeFlow(x, y, method, signal);
    return { forward: await roundTrip(f.forward, x.width, x.height), backward: await roundTrip(f.backward, x.width, x.height) };
  },
};
const configs: ConfigSpec[] = [{ name: 'ours', kind: 'propagate', options: {} }];
const common = { mediaDir: a.media ?? '', clips, styles: (a.styles ?? '').split(','), lengths: (a.lengths ?? '').split(',').map(Number), width, height, configs };
for (const [name, addon] of [['float32', exact], ['quantised', quantised]] as const) {
  const r = await runQuality({ ...common, addon });
  for (const row of r.rows) console.log(`${name.padEnd(10)} ${row.clip} ${row.style} len ${row.length}: PSNR ${row.psnr.toFixed(3)} dB, SSIM ${row.ssim.toFixed(4)}, warp ${row.warp.toFixed(3)} (truth ${row.truthWarp.toFixed(3)})`);
}
