import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { locateTools } from '../../src-main/media/locate.ts';
import { isMediaError } from '../../src-main/media/errors.ts';
import { makeTempDir, removeDir } from '../helpers/clips.ts';

let root = '';
const noStatic = async (): Promise<string | null> => null;

async function fakeTools(dir: string, names: string[] = ['ffmpeg', 'ffprobe']): Promise<string> {
  const full = path.join(root, dir);
  await mkdir(full, { recursive: true });
  for (const name of names) {
    const file = path.join(full, name);
    await writeFile(file, '#!/bin/sh\nexit 0\n');
    await chmod(file, 0o755);
  }
  return full;
}

before(async () => {
  root = await makeTempDir('rerender-locate-');
});
after(async () => {
  await removeDir(root);
});

test('RERENDER_FFMPEG wins over ffmpeg-static and PATH; ffprobe is taken from beside it', async () => {
  const envDir = await fakeTools('env');
  const staticDir = await fakeTools('static');
  const pathDir = await fakeTools('path');
  const tools = await locateTools({
    env: { RERENDER_FFMPEG: path.join(envDir, 'ffmpeg'), PATH: pathDir },
    loadFfmpegStatic: async () => path.join(staticDir, 'ffmpeg'),
  });
  assert.deepEqual(tools, { ffmpeg: path.join(envDir, 'ffmpeg'), ffprobe: path.join(envDir, 'ffprobe'), source: 'env' });
});

test('RERENDER_FFPROBE overrides the ffprobe beside RERENDER_FFMPEG; a lone env ffmpeg falls back to PATH for ffprobe', async () => {
  const envDir = await fakeTools('env-only-ffmpeg', ['ffmpeg']);
  const probeDir = await fakeTools('probe-only', ['ffprobe']);
  const pathDir = await fakeTools('path2');
  const explicit = await locateTools({
    env: { RERENDER_FFMPEG: path.join(envDir, 'ffmpeg'), RERENDER_FFPROBE: path.join(probeDir, 'ffprobe'), PATH: pathDir },
    loadFfmpegStatic: noStatic,
  });
  assert.equal(explicit.ffprobe, path.join(probeDir, 'ffprobe'));
  const fallback = await locateTools({ env: { RERENDER_FFMPEG: path.join(envDir, 'ffmpeg'), PATH: pathDir }, loadFfmpegStatic: noStatic });
  assert.equal(fallback.ffprobe, path.join(pathDir, 'ffprobe'));
});

test('ffmpeg-static comes before PATH, and PATH is searched in order', async () => {
  const staticDir = await fakeTools('static2');
  const first = await fakeTools('first');
  const second = await fakeTools('second');
  const viaStatic = await locateTools({ env: { PATH: `${first}:${second}` }, loadFfmpegStatic: async () => path.join(staticDir, 'ffmpeg') });
  assert.equal(viaStatic.source, 'ffmpeg-static');
  assert.equal(viaStatic.ffmpeg, path.join(staticDir, 'ffmpeg'));
  const viaPath = await locateTools({ env: { PATH: `${second}:${first}` }, loadFfmpegStatic: noStatic });
  assert.deepEqual(viaPath, { ffmpeg: path.join(second, 'ffmpeg'), ffprobe: path.join(second, 'ffprobe'), source: 'path' });
  const explicitPath = await locateTools({ env: { PATH: second }, path: first, loadFfmpegStatic: noStatic });
  assert.equal(explicitPath.ffmpeg, path.join(first, 'ffmpeg'));
});

test('non-executable files on PATH are skipped', async () => {
  const dir = path.join(root, 'not-exec');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'ffmpeg'), 'not a program');
  await writeFile(path.join(dir, 'ffprobe'), 'not a program');
  const good = await fakeTools('good');
  const tools = await locateTools({ env: { PATH: `${dir}:${good}` }, loadFfmpegStatic: noStatic });
  assert.equal(tools.ffmpeg, path.join(good, 'ffmpeg'));
});

test('nothing found → FFMPEG_NOT_FOUND telling how to fix it', async () => {
  const empty = path.join(root, 'empty');
  await mkdir(empty, { recursive: true });
  await assert.rejects(locateTools({ env: { PATH: empty }, loadFfmpegStatic: noStatic }), (err) => {
    assert.ok(isMediaError(err, 'FFMPEG_NOT_FOUND'));
    assert.match(err.message, /apt-get install ffmpeg/);
    assert.match(err.message, /RERENDER_FFMPEG=\/path\/to\/ffmpeg/);
    return true;
  });
  const onlyProbe = await fakeTools('only-probe', ['ffprobe']);
  await assert.rejects(locateTools({ env: { PATH: onlyProbe }, loadFfmpegStatic: noStatic }), /needs ffmpeg,/);
});

test('RERENDER_FFMPEG pointing nowhere is an error, not a silent fallback', async () => {
  const pathDir = await fakeTools('path3');
  const missing = path.join(root, 'missing', 'ffmpeg');
  await assert.rejects(locateTools({ env: { RERENDER_FFMPEG: missing, PATH: pathDir }, loadFfmpegStatic: noStatic }), (err) => {
    assert.ok(isMediaError(err, 'FFMPEG_NOT_FOUND'));
    assert.ok(err.message.includes(missing));
    return true;
  });
});

test('the default ffmpeg-static loader never throws when the package is absent', async () => {
  const pathDir = await fakeTools('path4');
  const tools = await locateTools({ env: { PATH: pathDir } });
  assert.ok(tools.source === 'path' || tools.source === 'ffmpeg-static');
});
