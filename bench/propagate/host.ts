// The host work of one interior frame that no GPU can take over, on the JS thread: a frame reads
// four flow-cache entries (each direction of propagation reads its pair), a first render writes two,
// and the result is stored as a PNG. Main-thread ms (event-loop busy time) against wall ms.
//   node bench/propagate/host.ts [--size 512] [--frames 20] [--clip ../shared/media/Megamind.avi]
// Without the clip, a generated frame and flow stand in (the figures then say less about sizes).
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { encodePngAsync } from '../../src-main/media/png.ts';
import { loadFlowCodec } from '../../src-main/propagate/flow-codec.ts';
import { loadPropagateAddon } from '../../src-main/propagate/native.ts';
import { decodeFlow, encodeFlow } from '../../src-main/studio/flow-cache.ts';
import { decodeFrames } from '../quality/clips.ts';

const { values: args } = parseArgs({ options: {
  size: { type: 'string', default: '512' }, frames: { type: 'string', default: '20' },
  clip: { type: 'string', default: '../shared/media/Megamind.avi' },
} });
const S = Number(args.size), F = Number(args.frames);
const codec = loadFlowCodec();
let frame: Uint8Array, next: Uint8Array;
if (existsSync(args.clip)) {
  [frame, next] = decodeFrames(args.clip, 40, 2, 1, S, S) as [Uint8Array, Uint8Array];
} else {
  const gen = (shift: number) => Uint8Array.from({ length: S * S * 3 }, (_, i) => 128 + Math.round(100 * Math.sin(((i / 3) % S) / 17 + shift) * Math.cos(Math.floor(i / 3 / S) / 23)));
  [frame, next] = [gen(0), gen(0.2)];
}
const img = (data: Uint8Array) => ({ data, width: S, height: S, channels: 3 });
const { forward, backward } = await loadPropagateAddon().computeFlow(img(frame), img(next), 'dis-fine');
const entries = [await encodeFlow(codec, forward, S, S), await encodeFlow(codec, backward, S, S)];

async function measure(name: string, perFrame: () => Promise<unknown>): Promise<void> {
  await perFrame(); // warm-up
  const loop0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  for (let f = 0; f < F; f++) await perFrame();
  const wall = (performance.now() - t0) / F;
  const busy = performance.eventLoopUtilization(loop0).active / F;
  console.log(`${name.padEnd(34)} main thread ${busy.toFixed(2).padStart(6)} ms, wall ${wall.toFixed(2).padStart(6)} ms per frame`);
}

console.log(`${S}x${S}, ${F} frames, flow entries ${entries.map((e) => `${(e.length / 1024).toFixed(0)} KiB`).join(' + ')}`);
await measure('read 4 flow entries', () => Promise.all([...entries, ...entries].map((e) => decodeFlow(codec, e, S, S))));
await measure('write 2 flow entries (first render)', () => Promise.all([encodeFlow(codec, forward, S, S), encodeFlow(codec, backward, S, S)]));
await measure('store the frame as PNG', () => encodePngAsync(frame, S, S, 3));
await measure('all of it, concurrently', () => Promise.all([
  ...[...entries, ...entries].map((e) => decodeFlow(codec, e, S, S)),
  encodeFlow(codec, forward, S, S), encodeFlow(codec, backward, S, S), encodePngAsync(frame, S, S, 3),
]));
