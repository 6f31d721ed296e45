// A small file can declare gigapixels: export (stored renders) and key-frame imports (PNG, JPEG,
// bytes from the editor) read the declared size first and refuse before anything is decoded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Project } from '../../src-main/project/index.ts';
import { locateTools } from '../../src-main/media/locate.ts';
import { importKeyframe, readJpegSize } from '../../src-main/studio/keyframe-image.ts';
import { makeClip, makeTempDir, removeDir } from '../helpers/clips.ts';
import { runCli } from '../cli/run-cli.ts';
import { craftedPng } from '../helpers/crafted-png.ts';

let dir = '';
let proj = '';

/** The start of a baseline JPEG (APP0, then SOF0 declaring width×height), then junk. */
function craftedJpeg(width: number, height: number): Buffer {
  const app0 = Buffer.from('ffe000104a46494600010100000100010000', 'hex');
  const sof = Buffer.from('ffc0001108000000000301220002110103110100'.slice(0, 38), 'hex');
  sof.writeUInt16BE(height, 5);
  sof.writeUInt16BE(width, 7);
  return Buffer.concat([Buffer.from('ffd8', 'hex'), app0, sof, Buffer.alloc(64, 0x55)]);
}

before(async () => {
  dir = await makeTempDir('rerender-export-img-');
  const clip = await makeClip(dir, { frames: 3, width: 64, height: 48, fps: { num: 24, den: 1 } });
  proj = path.join(dir, 'p.rrproj');
  const r = await runCli(['init', clip, '-o', proj, '--size', '64']);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => removeDir(dir));

test('JPEG SOF sizes are read from the header', () => {
  assert.deepEqual(readJpegSize(craftedJpeg(20000, 12000)), { width: 20000, height: 12000 });
  assert.equal(readJpegSize(craftedPng(8, 8)), null);
});

test('export refuses a render declaring 20000×20000 from its header (exit 3, TOO_LARGE), leaving nothing', async () => {
  const p = Project.open(proj);
  try {
    p.putRender(1, craftedPng(20000, 20000), { runId: 'r', paramsHash: 'h' });
  } finally {
    p.close();
  }
  const out = path.join(dir, 'out.mp4');
  const started = performance.now();
  const r = await runCli(['export', proj, out, '--json']);
  const ms = performance.now() - started;
  assert.equal(r.code, 3, r.stderr + r.stdout);
  assert.match(r.stderr + r.stdout, /TOO_LARGE|20000×20000/);
  assert.ok(ms < 5000, `refused in ${ms.toFixed(0)} ms`);
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('out')), [], 'no output and no partial file');
  const q = Project.open(proj);
  try {
    q.deleteRenders([1]);
  } finally {
    q.close();
  }
});

test('key-frame imports: huge PNG and JPEG headers are TOO_LARGE, a wrong size is refused before decoding', async () => {
  const bigPng = path.join(dir, 'big.png');
  const bigJpg = path.join(dir, 'big.jpg');
  writeFileSync(bigPng, craftedPng(20000, 20000));
  writeFileSync(bigJpg, craftedJpeg(20000, 20000));
  for (const file of [bigPng, bigJpg]) {
    const started = performance.now();
    const r = await runCli(['keyframe', proj, '--frame', '0', '--import', file, '--json']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr + r.stdout, /TOO_LARGE/);
    assert.ok(performance.now() - started < 2000);
  }
  // As a mask, too.
  const fine = path.join(dir, 'fine.png');
  writeFileSync(fine, craftedPng(64, 48));
  const r = await runCli(['keyframe', proj, '--frame', '0', '--import', fine, '--mask', bigPng]);
  assert.equal(r.code, 3, r.stderr);

  // Bytes from the editor, and a size within the limits but not the project's (its data is junk:
  // the size alone decides, nothing is decoded).
  const tools = await locateTools({ env: process.env });
  const p = Project.open(proj);
  try {
    await assert.rejects(importKeyframe(p, 0, { bytes: craftedPng(20000, 20000) }, null, { tools }), (e: Error & { code?: string }) => e.code === 'TOO_LARGE');
    await assert.rejects(importKeyframe(p, 0, { bytes: craftedJpeg(4000, 3000) }, null, { tools }), (e: Error & { code?: string }) => e.code === 'IMAGE_SIZE_MISMATCH');
    assert.equal(p.getKeyframe(0)?.image ?? null, null, 'the key frame is untouched');
  } finally {
    p.close();
  }
});
