// The largest w × h of a given aspect that fits `count` panes side by side in an element.
import { useEffect, useState, type RefObject } from 'react';

export function fitPanes(boxW: number, boxH: number, aspectW: number, aspectH: number, count: number, gap: number): { w: number; h: number } {
  const availW = Math.max(1, (boxW - gap * (count - 1)) / count);
  const availH = Math.max(1, boxH);
  const scale = Math.min(availW / aspectW, availH / aspectH);
  return { w: Math.floor(aspectW * scale), h: Math.floor(aspectH * scale) };
}

export function useFit(ref: RefObject<HTMLElement | null>, aspectW: number, aspectH: number, count = 1, gap = 10, padding = 24) {
  const [size, setSize] = useState({ w: aspectW, h: aspectH });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const update = () => setSize(fitPanes(el.clientWidth - padding, el.clientHeight - padding, aspectW, aspectH, count, gap));
    update();
    const ro = new ResizeObserver(update);
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref, aspectW, aspectH, count, gap, padding]);
  return size;
}
