import { describe, expect, it } from 'vitest';
import { createWsApi, REQUEST_NAMES, type SocketLike } from '../../src-renderer/api/ws-client.ts';
import { requestSchemas } from '../../src-main/api/contract.ts';
import { decodeWire, encodeWire } from '../../src-main/serve/wire.ts';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: unknown[] = [];
  private ls: Record<string, Array<(e: { data: unknown }) => void>> = {};
  send(data: string) {
    this.sent.push(decodeWire(data));
  }
  close() {
    this.emit('close');
  }
  addEventListener(type: string, l: (e: { data: unknown }) => void) {
    (this.ls[type] ??= []).push(l);
  }
  emit(type: string, data?: unknown) {
    if (type === 'open') this.readyState = 1;
    for (const l of this.ls[type] ?? []) l({ data });
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('browser-mode API client', () => {
  it('implements every request of the contract', () => {
    expect([...REQUEST_NAMES].sort()).toEqual(Object.keys(requestSchemas).sort());
  });

  it('waits for the socket, sends bytes, resolves and rejects with codes, delivers events', async () => {
    const s = new FakeSocket();
    const { api } = createWsApi(s);
    const added = api.importKeyframeImage(3, new Uint8Array([1, 2, 255]));
    const failed = api.removeKeyframe(9);
    await tick();
    expect(s.sent).toEqual([]);
    s.emit('open');
    await tick();
    expect(s.sent).toEqual([
      { id: 1, method: 'importKeyframeImage', args: [3, new Uint8Array([1, 2, 255])] },
      { id: 2, method: 'removeKeyframe', args: [9] },
    ]);
    s.emit('message', encodeWire({ id: 2, ok: false, error: { code: 'NOT_A_KEYFRAME', message: 'no key frame at 9' } }));
    s.emit('message', encodeWire({ id: 1, ok: true, value: { path: 'p' } }));
    await expect(added).resolves.toEqual({ path: 'p' });
    await expect(failed).rejects.toMatchObject({ code: 'NOT_A_KEYFRAME', message: 'no key frame at 9' });

    const jobs: unknown[] = [];
    const off = api.on('job', (j) => jobs.push(j));
    s.emit('message', encodeWire({ event: 'job', payload: { id: 'j' } }));
    s.emit('message', encodeWire({ event: 'project', payload: { id: 'p' } }));
    off();
    s.emit('message', encodeWire({ event: 'job', payload: { id: 'k' } }));
    expect(jobs).toEqual([{ id: 'j' }]);
  });

  it('fails pending requests when the server goes away', async () => {
    const s = new FakeSocket();
    const w = createWsApi(s);
    let lost = false;
    w.onDisconnect(() => (lost = true));
    s.emit('open');
    const p = w.api.listJobs();
    await tick();
    s.emit('close');
    await expect(p).rejects.toMatchObject({ code: 'DISCONNECTED' });
    expect(lost).toBe(true);
    await expect(w.api.project()).rejects.toMatchObject({ code: 'DISCONNECTED' });
  });
});
