// The EbSynth round trip: key frames' source pictures out as numbered full-resolution PNGs (the
// source minus the artist's crop), painted frames back in, matched by number, all or nothing.
// A 192x128 clip cropped 8 px left and 4 px top, worked at 64x64 (the aspect fix crops more).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Project } from '../../src-main/project/index.ts';
import { decodePng, locateTools, toRgb, type MediaTools } from '../../src-main/media/index.ts';
import { framePadding, keyframeFileName, exportKeyframeSources } from '../../src-main/studio/keyframe-export.ts';
import { frameNumberOf, importKeyframeFolder, importPaintedFrame, matchPaintedFiles, previewKeyframeFolder } from '../../src-main/studio/keyframe-import-dir.ts';
import { importKeyframe } from '../../src-main/studio/keyframe-image.ts';
import { previewPlan } from '../../src-main/studio/keyframes.ts';
import { createApiHost } from '../../src-main/api/host.ts';
import { makeClip, makeTempDir, removeDir } from '../helpers/clips.ts';
import { runCli } from '../cli/run-cli.ts';

let dir = '';
let clip = '';
let proj = '';
let tools: MediaTools;

function raw(args: string[]): Uint8Array {
  return new Uint8Array(execFileSync('ffmpeg', ['-v', 'error', ...args, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 26 }));
}
const negatePng = (from: string, to: string): void => {
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', from, '-vf', 'negate', to]);
};
const pixels = async (file: string): Promise<{ width: number; height: number; rgb: Uint8Array }> => {
  const img = decodePng(await readFile(file));
  return { width: img.width, height: img.height, rgb: toRgb(img) };
};

before(async () => {
  dir = await makeTempDir('rerender-ebsynth-');
  clip = await makeClip(dir, { frames: 12, width: 192, height: 128, fps: { num: 24, den: 1 } });
  proj = path.join(dir, 'p.rrproj');
  const r = await runCli(['init', clip, '-o', proj, '--size', '64', '--crop', '8,0,4,0']);
  assert.equal(r.code, 0, r.stderr);
  tools = await locateTools({ env: process.env });
});
after(async () => removeDir(dir));

test('file names carry the frame number, padded to at least five digits', () => {
  assert.equal(framePadding(24), 5);
  assert.equal(framePadding(100_000), 5);
  assert.equal(framePadding(100_001), 6);
  assert.equal(keyframeFileName(12, 5), '00012.png');
  assert.equal(keyframeFileName(123456, 6), '123456.png');
  assert.throws(() => framePadding(0), RangeError);
});

test('the frame number is the last group of digits in the name', () => {
  assert.equal(frameNumberOf('00012.png'), 12);
  assert.equal(frameNumberOf('shot_v2_00012.png'), 12);
  assert.equal(frameNumberOf('frame12-final.png'), 12);
  assert.equal(frameNumberOf('0000.jpg'), 0);
  assert.equal(frameNumberOf('painted.png'), null);
  assert.equal(frameNumberOf('v2.png'), 2);
  assert.equal(frameNumberOf('99999999999999999999999.png'), Number.MAX_SAFE_INTEGER);
});

test('painted files are matched to key frames; the others are skipped with a reason', () => {
  const names = ['00012.PNG', 'b_0003.jpg', 'notes.txt', 'painted.png', '.DS_Store', '00040.png', '00007.webp', 'x7.png', '00005.png'];
  const m = matchPaintedFiles(names, { frameCount: 30, keyframes: [0, 3, 5, 7, 12] });
  assert.deepEqual(m.matches, [
    { name: 'b_0003.jpg', frame: 3, isNew: false },
    { name: '00005.png', frame: 5, isNew: false },
    { name: '00012.PNG', frame: 12, isNew: false },
  ]);
  const reasons = Object.fromEntries(m.skipped.map((s) => [s.name, s.reason]));
  assert.match(reasons['notes.txt']!, /not an image/);
  assert.match(reasons['painted.png']!, /no frame number/);
  assert.match(reasons['00040.png']!, /past the end of the clip \(the last frame is 29\)/);
  assert.match(reasons['00007.webp']!, /2 files are numbered 7/);
  assert.match(reasons['x7.png']!, /2 files are numbered 7/);
  assert.equal(reasons['.DS_Store'], undefined);

  const added = matchPaintedFiles(['00004.png', '00005.png'], { frameCount: 30, keyframes: [5] });
  assert.match(added.skipped[0]!.reason, /frame 4 is not a key frame/);
  const withNew = matchPaintedFiles(['00004.png', '00005.png'], { frameCount: 30, keyframes: [5], addMissing: true });
  assert.deepEqual(withNew.matches.map((x) => [x.frame, x.isNew]), [[4, true], [5, false]]);
});

test('export writes the source minus the crop at full size, and refuses to overwrite unless asked', async () => {
  const out = path.join(dir, 'export');
  const p = Project.open(proj);
  try {
    p.setKeyframes([0, 5, 11]);
    const r = await exportKeyframeSources(p, { dir: out }, { tools });
    assert.deepEqual([r.width, r.height], [184, 124]);
    assert.deepEqual((await readdir(out)).sort(), ['00000.png', '00005.png', '00011.png']);
    const png = await pixels(path.join(out, '00005.png'));
    assert.deepEqual([png.width, png.height], [184, 124]);
    const want = raw(['-i', clip, '-vf', 'select=eq(n\\,5),crop=184:124:8:4,scale=184:124:flags=bicubic', '-frames:v', '1']);
    assert.equal(Buffer.compare(Buffer.from(png.rgb), Buffer.from(want)), 0, 'frame 5 differs from an ffmpeg decode of the cropped source');
    const other = raw(['-i', clip, '-vf', 'select=eq(n\\,6),crop=184:124:8:4,scale=184:124:flags=bicubic', '-frames:v', '1']);
    assert.notEqual(Buffer.compare(Buffer.from(png.rgb), Buffer.from(other)), 0);

    // A check writes nothing; one step writes only the frames asked for.
    const fresh = path.join(dir, 'export-steps');
    const checked = await exportKeyframeSources(p, { dir: fresh, checkOnly: true }, { tools });
    assert.deepEqual([checked.frames, checked.width, checked.height], [[0, 5, 11], 184, 124]);
    assert.equal(await readdir(fresh).catch(() => null), null, 'the check made no folder');
    await exportKeyframeSources(p, { dir: fresh, frames: [11] }, { tools });
    assert.deepEqual(await readdir(fresh), ['00011.png']);

    await writeFile(path.join(out, '00005.png'), 'mine');
    await assert.rejects(exportKeyframeSources(p, { dir: out }, { tools }), (e: Error & { code?: string }) => e.code === 'OUTPUT_EXISTS' && /00000\.png/.test(e.message));
    assert.equal(await readFile(path.join(out, '00005.png'), 'utf8'), 'mine', 'a refused export wrote nothing');
    await exportKeyframeSources(p, { dir: out, overwrite: true }, { tools });
    assert.equal((await pixels(path.join(out, '00005.png'))).width, 184);
  } finally {
    p.close();
  }
});

test('painted frames come back matched by number, as a working-size import would land them; all or nothing', async () => {
  const out = path.join(dir, 'export2');
  const painted = path.join(dir, 'painted');
  await mkdir(painted, { recursive: true });
  const p = Project.open(proj);
  try {
    p.setKeyframes([0, 5, 11]);
    await exportKeyframeSources(p, { dir: out }, { tools });
    negatePng(path.join(out, '00000.png'), path.join(painted, 'shot_00000_paint.png'));
    negatePng(path.join(out, '00005.png'), path.join(painted, '00005.png'));
    negatePng(path.join(out, '00005.png'), path.join(painted, '00003.png'));
    await writeFile(path.join(painted, 'notes.txt'), 'hello');

    const preview = await previewKeyframeFolder(p, painted, {}, { tools });
    assert.deepEqual(preview.items.map((i) => [i.frame, i.problem]), [[0, null], [5, null]]);
    assert.match(preview.items[0]!.thumbnail!, /^data:image\/png;base64,/);
    assert.deepEqual(preview.skipped.map((s) => s.name).sort(), ['00003.png', 'notes.txt']);
    assert.equal(p.getKeyframe(5)!.image, null, 'the preview changes nothing');

    // All or nothing: a file that is no image stops everything, frame 0 included.
    await writeFile(path.join(painted, '00011.png'), 'not a png');
    await assert.rejects(importKeyframeFolder(p, painted, {}, { tools }), (e: Error & { code?: string }) => e.code === 'INVALID_IMAGE' && /00011\.png/.test(e.message));
    assert.equal(p.getKeyframe(0)!.image, null);
    assert.equal(p.getKeyframe(5)!.image, null);

    execFileSync('rm', [path.join(painted, '00011.png')]);
    const r = await importKeyframeFolder(p, painted, { addMissing: true }, { tools });
    assert.deepEqual(r.imported.map((m) => [m.frame, m.isNew]), [[0, false], [3, true], [5, false]]);
    assert.deepEqual(p.listKeyframes(() => '').map((k) => [k.frame, k.state]), [[0, 'edited'], [3, 'edited'], [5, 'edited'], [11, 'none']]);
    const viaFolder = p.getKeyframe(5)!.image!;
    // One painted frame by path (the editor's file browser) lands the same.
    p.clearKeyframeImage(5);
    await importPaintedFrame(p, 5, path.join(painted, '00005.png'), { tools });
    assert.equal(Buffer.compare(viaFolder, p.getKeyframe(5)!.image!), 0);

    // The same painting at the full source size, through the single-image import.
    const fullNeg = path.join(dir, 'full5.png');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', clip, '-vf', 'select=eq(n\\,5),scale=192:128:flags=bicubic,negate', '-frames:v', '1', fullNeg]);
    // The exported crop of it must be what was painted: check the two inputs agree first.
    const fullRgb = (await pixels(fullNeg)).rgb;
    const cropRgb = (await pixels(path.join(painted, '00005.png'))).rgb;
    for (let y = 0; y < 124; y++) {
      const a = Buffer.from(fullRgb.subarray(((y + 4) * 192 + 8) * 3, ((y + 4) * 192 + 192) * 3));
      const b = Buffer.from(cropRgb.subarray(y * 184 * 3, (y + 1) * 184 * 3));
      assert.equal(Buffer.compare(a, b), 0, `row ${y} of the inputs differs`);
    }
    await importKeyframe(p, 5, { path: fullNeg }, null, { tools });
    assert.equal(Buffer.compare(viaFolder, p.getKeyframe(5)!.image!), 0, 'an exported-size painting lands as a source-size one does');
  } finally {
    p.close();
  }
});

test('CLI: keyframes --export and keyframe --import-dir', async () => {
  const out = path.join(dir, 'cli-export');
  let r = await runCli(['keyframes', proj, '--every', '6', '--export', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /exported 2 key frame\(s\) at 184×124/);
  assert.deepEqual((await readdir(out)).sort(), ['00000.png', '00006.png']);
  r = await runCli(['keyframes', proj, '--export', out]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /already in/);
  r = await runCli(['keyframes', proj, '--export', out, '--overwrite']);
  assert.equal(r.code, 0, r.stderr);

  negatePng(path.join(out, '00006.png'), path.join(out, 'painted_00006.png'));
  execFileSync('rm', [path.join(out, '00006.png')]);
  await writeFile(path.join(out, 'readme.txt'), '');
  r = await runCli(['keyframe', proj, '--import-dir', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /imported 2 painted frame\(s\)/);
  assert.match(r.stdout, /frame 6 ← painted_00006\.png/);
  assert.match(r.stdout, /readme\.txt: not an image/);
  r = await runCli(['keyframe', proj, '--import-dir', out, '--frame', '3']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--import-dir goes alone/);
});

test('a plan preview names what replacing would remove; edits go only when confirmed', () => {
  const current = [
    { frame: 0, state: 'none', hasMask: false, prompt: null },
    { frame: 4, state: 'edited', hasMask: true, prompt: null },
    { frame: 7, state: 'none', hasMask: false, prompt: null },
    { frame: 9, state: 'none', hasMask: false, prompt: 'rain' },
  ];
  assert.deepEqual(previewPlan(current, [0, 5, 10], 'replace'), {
    frames: [0, 5, 10],
    added: [5, 10],
    removed: [{ frame: 4, edits: ['image', 'mask'] }, { frame: 7, edits: [] }, { frame: 9, edits: ['prompt'] }],
  });
  assert.deepEqual(previewPlan(current, [0, 5], 'add'), { frames: [0, 4, 5, 7, 9], added: [5], removed: [] });
});

test('host: batch plans, folder import and image import by path are one undo step each', async () => {
  const h = createApiHost({ dataDir: path.join(dir, 'host-data'), env: process.env });
  try {
    await h.api.openProject(proj);
    // The earlier tests left painted key frames: replacing them needs the artist's yes.
    await h.api.applyKeyframePlan({ every: 4 }, 'replace', { dropEdits: true });
    await h.api.clearKeyframeImage(0);
    assert.deepEqual((await h.api.project())!.keyframes.map((k) => [k.frame, k.state]), [[0, 'none'], [4, 'none'], [8, 'none']]);
    await h.api.setKeyframePrompt(4, 'ink');
    const preview = await h.api.planKeyframes({ every: 6 }, 'replace');
    assert.deepEqual(preview.removed, [{ frame: 4, edits: ['prompt'] }, { frame: 8, edits: [] }]);
    await assert.rejects(h.call('applyKeyframePlan', [{ every: 6 }, 'replace', {}]), (e: Error & { code?: string }) => e.code === 'WOULD_DROP_EDITS');
    assert.deepEqual((await h.api.project())!.keyframes.map((k) => k.frame), [0, 4, 8], 'refused: nothing changed');
    await h.api.applyKeyframePlan({ every: 6 }, 'replace', { dropEdits: true });
    assert.deepEqual((await h.api.project())!.keyframes.map((k) => k.frame), [0, 6]);
    await h.api.undo();
    assert.deepEqual((await h.api.project())!.keyframes.map((k) => [k.frame, k.prompt]), [[0, null], [4, 'ink'], [8, null]]);

    // Automatic: the clip analysed once, gaps within the bounds asked for.
    for (const max of [5, 4]) {
      const auto = await h.api.planKeyframes({ auto: { min: 2, max } }, 'replace');
      assert.equal(auto.frames[0], 0);
      const ends = [...auto.frames, 12];
      for (let i = 1; i < ends.length; i++) assert.ok(ends[i]! - ends[i - 1]! <= max && (i === ends.length - 1 || ends[i]! - ends[i - 1]! >= 2), `gaps of ${auto.frames.join(',')} within 2..${max}`);
    }

    const img = path.join(dir, 'work.png');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=red:size=64x64', '-frames:v', '1', img]);
    await h.api.importKeyframeImageFile(8, img);
    assert.equal((await h.api.project())!.keyframes.find((k) => k.frame === 8)!.state, 'edited');
    await assert.rejects(h.call('importKeyframeImageFile', [8, 'work.png']), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT');
    await assert.rejects(h.call('applyKeyframePlan', [{ every: 0 }, 'replace', {}]), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT');

    const folder = path.join(dir, 'host-painted');
    await mkdir(folder, { recursive: true });
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=blue:size=64x64', '-frames:v', '1', path.join(folder, 'a_0000.png')]);
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=blue:size=64x64', '-frames:v', '1', path.join(folder, 'a_0004.png')]);
    const fp = await h.api.previewKeyframeFolder(folder, {});
    assert.deepEqual(fp.items.map((i) => [i.frame, i.problem]), [[0, null], [4, null]]);
    await h.api.importKeyframeFolder(folder, {});
    assert.deepEqual((await h.api.project())!.keyframes.map((k) => k.state), ['edited', 'edited', 'edited']);
    await h.api.undo();
    assert.deepEqual((await h.api.project())!.keyframes.map((k) => k.state), ['none', 'none', 'edited'], 'the whole folder import undone in one step');
  } finally {
    await h.dispose();
  }
});
