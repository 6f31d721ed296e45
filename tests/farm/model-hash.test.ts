// Models named by content: a renamed copy has the same hash, a changed byte another; a worker's
// folder is indexed by those hashes; the cache answers for unchanged files without reading them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, writeFile, utimes } from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir, removeDir } from '../helpers/clips.ts';
import { indexModels, ModelHashCache, modelContentHash } from '../../src-main/farm/model-hash.ts';
import { localModels } from '../../src-main/farm/run-translate.ts';
import { defaultSettings } from '../../src-main/project/settings.ts';
import type { TranslateJobData } from '../../src-main/farm/schemas.ts';

const ENGINE = path.resolve(import.meta.dirname, '..', 'fixtures', 'engine');

test('content hashes: renamed copies match, a changed file does not, the cache is used and refreshed', async () => {
  const dir = await makeTempDir('rerender-model-hash-');
  try {
    const cacheFile = path.join(dir, 'hashes.json');
    const cache = new ModelHashCache(cacheFile);
    const a = await modelContentHash(path.join(ENGINE, 'tiny-controlnet'), cache);
    await cp(path.join(ENGINE, 'tiny-controlnet'), path.join(dir, 'renamed'), { recursive: true });
    assert.equal(await modelContentHash(path.join(dir, 'renamed'), cache), a);
    const file = await modelContentHash(path.join(ENGINE, 'tiny-controlnet.safetensors'), cache);
    assert.match(file, /^[0-9a-f]{64}$/);
    assert.notEqual(file, a, 'a folder hashes its files with their names, not as one file');
    cache.save();

    // The cache answers by path, size and time: a rewritten file (new time) is read again, and a
    // touched one hashes as before.
    const cfg = path.join(dir, 'renamed', 'config.json');
    await writeFile(cfg, '{"changed": true}');
    const again = new ModelHashCache(cacheFile);
    const changed = await modelContentHash(path.join(dir, 'renamed'), again);
    assert.notEqual(changed, a);
    await utimes(cfg, new Date(), new Date(Date.now() + 5000));
    assert.equal(await modelContentHash(path.join(dir, 'renamed'), again), changed);

    // A worker's folder, indexed: each model once, folders as one model.
    const models = path.join(dir, 'models');
    await mkdir(path.join(models, 'controlnet'), { recursive: true });
    await cp(path.join(ENGINE, 'tiny-controlnet'), path.join(models, 'controlnet', 'canny'), { recursive: true });
    await cp(path.join(ENGINE, 'tiny-sd'), path.join(models, 'sd'), { recursive: true });
    const index = await indexModels(models, new ModelHashCache(null));
    assert.equal(index.get(a)?.path, path.join(models, 'controlnet', 'canny'));
    assert.equal(index.get(a)?.kind, 'controlnet');
    const sd = await modelContentHash(path.join(ENGINE, 'tiny-sd'), cache);
    assert.equal(index.get(sd)?.kind, 'checkpoint');
    assert.equal(index.size, 2, [...index.values()].map((m) => m.path).join(', '));

    // A job's models mapped onto the worker's copies; a missing one named in the error.
    const settings = { ...defaultSettings(), model: '/owner/sd', controlnetModel: '/owner/canny' };
    const job = { settings, models: { model: { hash: sd, name: 'sd' }, controlnet: { hash: a, name: 'canny' }, extra: [], loras: [] } } as unknown as TranslateJobData;
    const local = localModels(job, index, 'w1');
    assert.equal(local.model, path.join(models, 'sd'));
    assert.equal(local.controlnetModel, path.join(models, 'controlnet', 'canny'));
    const missing = { ...job, models: { ...job.models, model: { hash: 'f'.repeat(64), name: 'dreamshaper.safetensors' } } } as TranslateJobData;
    assert.throws(() => localModels(missing, index, 'w1'), (e: Error & { code?: string }) => e.code === 'MODEL_MISSING' && /worker w1 does not have Stable Diffusion model 'dreamshaper.safetensors' \(sha256 ffffffffffff…\)/.test(e.message));
  } finally {
    await removeDir(dir);
  }
});
