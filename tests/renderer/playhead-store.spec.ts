import { describe, expect, it } from 'vitest';
import { browserStorage, loadPlayhead, playheadKey, savePlayhead, type PlayheadStorage } from '../../src-renderer/lib/playhead-store.ts';

function memory(): PlayheadStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

const throwing: PlayheadStorage = {
  getItem: () => {
    throw new DOMException('denied', 'SecurityError');
  },
  setItem: () => {
    throw new DOMException('full', 'QuotaExceededError');
  },
};

describe('stored playhead', () => {
  it('restores the frame saved for the same project, and only for it', () => {
    const s = memory();
    savePlayhead(s, '/a/one.rrproj', 42);
    savePlayhead(s, '/a/two.rrproj', 7);
    expect(loadPlayhead(s, '/a/one.rrproj', 100)).toBe(42);
    expect(loadPlayhead(s, '/a/two.rrproj', 100)).toBe(7);
    expect(loadPlayhead(s, '/a/three.rrproj', 100)).toBe(0);
    expect(s.data.get(playheadKey('/a/one.rrproj'))).toBe('42');
  });

  it('clamps a stored frame to a project that has fewer frames now', () => {
    const s = memory();
    savePlayhead(s, '/p.rrproj', 90);
    expect(loadPlayhead(s, '/p.rrproj', 24)).toBe(23);
    expect(loadPlayhead(s, '/p.rrproj', 0)).toBe(0);
  });

  it('ignores junk in storage and refuses to store a bad frame', () => {
    const s = memory();
    for (const junk of ['abc', '-3', '1.5e3', '']) {
      s.data.set(playheadKey('/p.rrproj'), junk);
      expect(loadPlayhead(s, '/p.rrproj', 100)).toBe(0);
    }
    savePlayhead(s, '/q.rrproj', Number.NaN);
    savePlayhead(s, '/q.rrproj', -1);
    expect(s.data.has(playheadKey('/q.rrproj'))).toBe(false);
  });

  it('starts at frame 0 and does not throw when storage is missing or refuses', () => {
    expect(loadPlayhead(null, '/p.rrproj', 10)).toBe(0);
    expect(() => savePlayhead(null, '/p.rrproj', 3)).not.toThrow();
    expect(loadPlayhead(throwing, '/p.rrproj', 10)).toBe(0);
    expect(() => savePlayhead(throwing, '/p.rrproj', 3)).not.toThrow();
  });

  it('round-trips through the page localStorage, and survives it throwing on access', () => {
    const real = browserStorage();
    expect(real).not.toBeNull();
    savePlayhead(real, '/jsdom.rrproj', 5);
    expect(loadPlayhead(browserStorage(), '/jsdom.rrproj', 10)).toBe(5);
    window.localStorage.removeItem(playheadKey('/jsdom.rrproj'));

    const desc = Object.getOwnPropertyDescriptor(window, 'localStorage');
    Object.defineProperty(window, 'localStorage', {
      configurable: true,
      get() {
        throw new DOMException('denied', 'SecurityError');
      },
    });
    try {
      expect(browserStorage()).toBeNull();
    } finally {
      if (desc) Object.defineProperty(window, 'localStorage', desc);
    }
  });
});
