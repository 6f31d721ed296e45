// Loads an image for Konva; null while loading or when the route has nothing (404).
import { useEffect, useState } from 'react';

export function useImage(url: string | null): HTMLImageElement | null {
  const [img, setImg] = useState<HTMLImageElement | null>(null);
  useEffect(() => {
    if (!url) {
      setImg(null);
      return;
    }
    let live = true;
    const el = new Image();
    el.crossOrigin = 'anonymous';
    el.onload = () => live && setImg(el);
    el.onerror = () => live && setImg(null);
    el.src = url;
    return () => {
      live = false;
    };
  }, [url]);
  return img;
}
