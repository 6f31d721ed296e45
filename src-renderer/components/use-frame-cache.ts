// A FrameCache for a component, with the browser's loader: fetch the PNG, decode it, and keep it
// as an object URL, so showing a cached frame never waits on the network or the decoder.
import { useEffect, useReducer, useState } from 'react';
import { FrameCache, type FrameLoader } from '../lib/frame-cache.ts';

export const browserFrameLoader: FrameLoader = async (url, signal) => {
  const res = await fetch(url, { signal });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const objectUrl = URL.createObjectURL(await res.blob());
  try {
    const img = new Image();
    img.src = objectUrl;
    await img.decode();
  } catch (e) {
    URL.revokeObjectURL(objectUrl);
    throw e;
  }
  // For DevTools and bench:editor: when each frame's picture was ready to show.
  performance.mark(`frame-ready ${url}`);
  return { display: objectUrl, release: () => URL.revokeObjectURL(objectUrl) };
};

/**
 * The cache lives as long as the component (made in an effect, so StrictMode's extra mount
 * cycle disposes its own copy); null before the first effect. Re-renders whenever a frame settles.
 */
export function useFrameCache(capacity: number, loader: FrameLoader = browserFrameLoader): FrameCache | null {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const [cache, setCache] = useState<FrameCache | null>(null);
  useEffect(() => {
    const c = new FrameCache({ load: loader, capacity, concurrency: 4, onChange: bump });
    setCache(c);
    return () => c.dispose();
  }, [capacity, loader]);
  return cache;
}
