// `rerender models`: the default pair comes from a huggingface_hub cache when present, else from
// the hub (a local stand-in server here), with clear failures offline and for pickles.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir, removeDir } from '../helpers/clips.ts';
import { jsonLines, runCli } from './run-cli.ts';

const FIX = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'engine');
const FILES: Record<string, string> = {
  '/stable-diffusion-v1-5/stable-diffusion-v1-5/resolve/main/v1-5-pruned-emaonly.safetensors': path.join(FIX, 'tiny-sd.safetensors'),
  '/lllyasviel/control_v11p_sd15_canny/resolve/main/config.json': path.join(FIX, 'tiny-controlnet', 'config.json'),
  '/lllyasviel/control_v11p_sd15_canny/resolve/main/diffusion_pytorch_model.safetensors': path.join(FIX, 'tiny-controlnet', 'diffusion_pytorch_model.safetensors'),
};

let dir = '';
let server: http.Server;
let endpoint = '';
const requests: string[] = [];

before(async () => {
  dir = await makeTempDir('rerender-models-');
  server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const file = FILES[req.url ?? ''];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    const body = fs.readFileSync(file);
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise((r) => server.close(r));
  await removeDir(dir);
});

const env = (extra: Record<string, string>) => ({ PATH: process.env.PATH, HOME: dir, HF_HUB_CACHE: path.join(dir, 'no-hub-cache'), ...extra });

test('download fetches the default pair once, then finds it present', async () => {
  const models = path.join(dir, 'models');
  let r = await runCli(['models', 'download', '--dir', models, '--json'], { env: env({ HF_ENDPOINT: endpoint }) });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const res = jsonLines(r.stdout).find((l) => l.type === 'result') as { models: { kind: string; path: string; source: string }[] };
  assert.deepEqual(res.models.map((m) => [m.kind, m.source]), [['checkpoint', 'downloaded'], ['controlnet', 'downloaded']]);
  assert.deepEqual(fs.readFileSync(res.models[0]!.path), fs.readFileSync(path.join(FIX, 'tiny-sd.safetensors')));
  assert.ok(fs.existsSync(path.join(res.models[1]!.path, 'diffusion_pytorch_model.safetensors')));
  assert.ok(jsonLines(r.stdout).some((l) => l.type === 'progress'));

  const before = requests.length;
  r = await runCli(['models', 'download', '--dir', models, '--json'], { env: env({ HF_ENDPOINT: endpoint }) });
  assert.equal(r.code, 0);
  assert.equal(requests.length, before, 'nothing is fetched again');
  r = await runCli(['models', 'list', '--dir', models, '--json'], { env: env({}) });
  const listed = jsonLines(r.stdout).find((l) => l.type === 'result') as { models: { kind: string }[] };
  assert.deepEqual(listed.models.map((m) => m.kind).sort(), ['checkpoint', 'controlnet']);
});

test('a huggingface_hub cache that has the files is used without the network', async () => {
  const hub = path.join(dir, 'hub');
  for (const [url, file] of Object.entries(FILES)) {
    const [, org, name, , , ...rest] = url.split('/');
    const snap = path.join(hub, `models--${org}--${name}`, 'snapshots', 'abc123');
    fs.mkdirSync(snap, { recursive: true });
    fs.copyFileSync(file, path.join(snap, rest.join('/')));
  }
  const before = requests.length;
  const r = await runCli(['models', 'download', '--dir', path.join(dir, 'models2'), '--json'], { env: env({ HF_ENDPOINT: endpoint, HF_HUB_CACHE: hub }) });
  assert.equal(r.code, 0, r.stderr);
  const res = jsonLines(r.stdout).find((l) => l.type === 'result') as { models: { source: string }[] };
  assert.deepEqual(res.models.map((m) => m.source), ['hub-cache', 'hub-cache']);
  assert.equal(requests.length, before);
});

test('offline: a clear message and exit 4; pickles are refused', async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  let r = await runCli(['models', 'download', '--dir', path.join(dir, 'models3')], { env: env({ HF_ENDPOINT: `http://127.0.0.1:${port}` }) });
  assert.equal(r.code, 4);
  assert.match(r.stderr, /offline/);
  assert.equal(fs.existsSync(path.join(dir, 'models3', 'checkpoints', 'v1-5-pruned-emaonly.safetensors')), false);

  const pickle = path.join(dir, 'model.ckpt');
  fs.writeFileSync(pickle, 'not really a pickle');
  r = await runCli(['models', 'import', pickle, '--dir', path.join(dir, 'models3')], { env: env({}) });
  assert.equal(r.code, 3);
  assert.match(r.stderr, /safetensors/);
});
