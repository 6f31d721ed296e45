// Flow cache size and speed on real footage: bytes per entry (one direction of one frame pair)
// in the old format (deflated float32) and the compact one, encode/decode ms (wall, one at a
// time; the compact one's work runs off the JS thread), round-trip error.
//   node bench/flow/cache.ts [--pairs 6] [--width 704] [--height 512] [--method dis-medium]
import { parseArgs } from 'node:util';
import { deflateSync, inflateSync } from 'node:zlib';
import { loadPropagateAddon } from '../../src-main/propagate/native.ts';
import type { FlowMethod } from '../../src-main/propagate/native.ts';
import { decodeFlow, encodeFlow } from '../../src-main/studio/flow-cache.ts';
import { loadFlowCodec } from '../../src-main/propagate/flow-codec.ts';
import { decodeFrames } from './frames.ts';

const { values: args } = parseArgs({ options: {
  pairs: { type: 'string', default: '6' }, width: { type: 'string', default: '704' }, height: { type: 'string', default: '512' },
  method: { type: 'string', default: 'dis-medium' },
} });
const W = Number(args.width), H = Number(args.height), P = Number(args.pairs);
const addon = loadPropagateAddon();
const codec = loadFlowCodec();
// Megamind 20.. is one shot of a moving animated scene; vtest 100.. walkers before a still camera.
const clips = [['../shared/media/Megamind.avi', 20], ['../shared/media/vtest.avi', 100]] as const;
console.log(`flow ${args.method} at ${W}x${H}, ${P} pairs per clip, both directions`);
console.log('clip          old KiB   new KiB  ratio  old enc/dec ms  new enc/dec ms  max err px  mean EPE px');
for (const [clip, start] of clips) {
  const frames = decodeFrames(clip, start, P + 1, W, H);
  let oldBytes = 0, newBytes = 0, oldEnc = 0, oldDec = 0, newEnc = 0, newDec = 0, maxErr = 0, epe = 0, count = 0;
  for (let i = 0; i + 1 < frames.length; i++) {
    const img = (k: number) => ({ data: frames[k] as Uint8Array, width: W, height: H, channels: 3 });
    const flows = await addon.computeFlow(img(i), img(i + 1), args.method as FlowMethod);
    for (const f of [flows.forward, flows.backward]) {
      let t = performance.now();
      const old = deflateSync(new Uint8Array(f.buffer, f.byteOffset, f.byteLength), { level: 1 });
      oldEnc += performance.now() - t; t = performance.now();
      inflateSync(old);
      oldDec += performance.now() - t; t = performance.now();
      const entry = await encodeFlow(codec, f, W, H);
      newEnc += performance.now() - t; t = performance.now();
      const back = await decodeFlow(codec, entry, W, H);
      newDec += performance.now() - t;
      if (!back) throw new Error('round trip failed');
      for (let p = 0; p < W * H; p++) {
        const dx = (back[2 * p] as number) - (f[2 * p] as number), dy = (back[2 * p + 1] as number) - (f[2 * p + 1] as number);
        maxErr = Math.max(maxErr, Math.abs(dx), Math.abs(dy));
        epe += Math.hypot(dx, dy);
      }
      oldBytes += old.length; newBytes += entry.length; count++;
    }
  }
  const k = (b: number) => (b / count / 1024).toFixed(0).padStart(8);
  const ms = (a: number, b: number) => `${(a / count).toFixed(1)} / ${(b / count).toFixed(1)}`.padStart(14);
  console.log(`${clip.split('/').pop()?.padEnd(12)} ${k(oldBytes)}  ${k(newBytes)}  ${(oldBytes / newBytes).toFixed(1).padStart(5)}x  ${ms(oldEnc, oldDec)}  ${ms(newEnc, newDec)}  ${maxErr.toFixed(4).padStart(10)}  ${(epe / count / W / H).toFixed(4).padStart(11)}`);
}
