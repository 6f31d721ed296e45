// Konva components under jsdom: jsdom has no canvas, so a do-nothing 2D context stands in (Konva's
// node tree, what is drawn and where, is what the specs read), nor a ResizeObserver (a component
// keeps its initial width). Call from a spec file's top level.
import { afterAll, beforeAll } from 'vitest';
import Konva from 'konva';

export function useKonvaInJsdom(): void {
  let restore: (() => void) | null = null;
  beforeAll(() => {
    const original = HTMLCanvasElement.prototype.getContext;
    const noop = (): unknown => fake;
    const fake: unknown = new Proxy(
      {},
      {
        get: (t: Record<string | symbol, unknown>, k) => (k in t ? t[k] : k === 'measureText' ? () => ({ width: 8 }) : k === 'getImageData' ? () => ({ data: new Uint8ClampedArray(4) }) : noop),
        set: (t: Record<string | symbol, unknown>, k, v) => {
          t[k] = v;
          return true;
        },
      },
    );
    HTMLCanvasElement.prototype.getContext = function getContext() {
      return fake as CanvasRenderingContext2D;
    } as unknown as typeof original;
    const hadObserver = 'ResizeObserver' in globalThis;
    if (!hadObserver) {
      (globalThis as { ResizeObserver?: unknown }).ResizeObserver = class {
        observe(): void {}
        disconnect(): void {}
      };
    }
    restore = () => {
      HTMLCanvasElement.prototype.getContext = original;
      if (!hadObserver) delete (globalThis as { ResizeObserver?: unknown }).ResizeObserver;
    };
  });
  afterAll(() => restore?.());
}

/** The newest Konva stage (the component just rendered). */
export function lastStage(): Konva.Stage {
  const s = Konva.stages.at(-1);
  if (!s) throw new Error('no Konva stage');
  return s;
}
