import { describe, expect, it } from 'vitest';
import type { JobInfo, KeyframeInfo } from '../../src-main/api/contract.ts';
import { mediaRoutes } from '../../src-main/api/contract.ts';
import { layerUrl } from '../../src-renderer/components/Preview.tsx';
import { mediaVersion, stripVersion } from '../../src-renderer/lib/media-version.ts';

const url = (route: string, v?: string | number): string => (v === undefined ? `/media/${route}` : `/media/${route}?v=${String(v)}`);
const strip = (status: JobInfo['status']): JobInfo => ({
  id: Math.random().toString(36),
  kind: 'thumbnails',
  status,
  done: 0,
  total: 0,
  etaSeconds: null,
  device: null,
  note: null,
  error: null,
  output: null,
});

describe('media URLs', () => {
  const kf: KeyframeInfo = { frame: 0, state: 'edited', hasMask: false, prompt: null, updatedAt: '2024-01-01T00:00:00.000Z' };
  const a = { path: '/p/a.rrproj', mediaRev: 'aaaa.1', keyframes: [kf] };
  const b = { path: '/p/b.rrproj', mediaRev: 'bbbb.2', keyframes: [kf] };

  it('gives two projects different strip URLs even with the same number of finished strip jobs', () => {
    const jobs = [strip('done')];
    expect(url(mediaRoutes.thumbnails(), stripVersion(a, jobs))).not.toBe(url(mediaRoutes.thumbnails(), stripVersion(b, jobs)));
    // Neither a revision nor a job: still told apart by the project's path.
    expect(stripVersion({ path: '/p/a.rrproj' }, [])).not.toBe(stripVersion({ path: '/p/b.rrproj' }, []));
  });

  it('changes the strip URL when a strip is rebuilt, not while one is running', () => {
    const before = stripVersion(a, [strip('done')]);
    expect(stripVersion(a, [strip('done'), strip('running')])).toBe(before);
    expect(stripVersion(a, [strip('done'), strip('done')])).not.toBe(before);
  });

  it('versions source frames and key-frame images by project', () => {
    expect(layerUrl('source', 0, a, url, 'r')).not.toBe(layerUrl('source', 0, b, url, 'r'));
    // The same key frame, edited at the same moment, in two projects.
    expect(layerUrl('keyframe', 0, a, url, 'r')).not.toBe(layerUrl('keyframe', 0, b, url, 'r'));
    expect(mediaVersion(a, 3)).not.toBe(mediaVersion(b, 3));
  });
});
