import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServicesClient, serveHost } from '../../src-main/app/services-messages.ts';
import { FakeHost, portPair } from './fakes.ts';

test('main forwards calls, media and events to and from the services process', async () => {
  const host = new FakeHost();
  const [mainSide, childSide] = portPair();
  const dispose = serveHost(host, childSide);
  const client = createServicesClient(mainSide);

  assert.deepEqual(await client.call('addKeyframe', [3]), { echoed: 'addKeyframe', args: [3] });
  await assert.rejects(client.call('openProject', ['/x']), (e: Error & { code?: string }) => e.code === 'PROJECT_NOT_FOUND');
  const media = await client.media('frame/source/3.png', { range: 'bytes=0-3' });
  assert.equal(media.status, 206);
  assert.deepEqual([...(media.body ?? [])], [137, 80, 78, 71]);
  assert.deepEqual(host.mediaCalls.at(-1), { route: 'frame/source/3.png', req: { range: 'bytes=0-3' } });

  const got: unknown[] = [];
  client.onEvent((event, payload) => got.push([event, payload]));
  host.emit('project', { path: '/p' });
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(got, [['project', { path: '/p' }]]);

  dispose();
  assert.equal(host.listenerCount('project'), 0);
  const pending = client.call('listJobs', []);
  client.fail('gone');
  await assert.rejects(pending, (e: Error & { code?: string }) => e.code === 'SERVICES_EXITED');
});
