// Mutations of a project file: raw page damage (the file as bytes) or hostile stored values
// written through SQL on a copy (the file stays a valid database; its contents lie).
import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Rng } from './prng.ts';
import { flipBits, truncate } from './bytes.ts';

const PAGE = 4096;

export interface ProjectMutation {
  label: string;
  /** 'bytes': the file is damaged; 'sql': a valid database whose stored values are hostile. */
  kind: 'bytes' | 'sql';
}

const HOSTILE_JSON = ['{', 'null', '[]', '"x"', '{"width":-1}', '1e999', '{"a":' + '['.repeat(5000) + ']'.repeat(5000) + '}', '\u0000', ''];
const ABSURD = [0, -1, 1e15, 2 ** 53, -(2 ** 31), 1.5, 'NaN', 'x', null];

function jsonSet(r: Rng, text: string): { label: string; text: string } {
  const obj = JSON.parse(text) as Record<string, unknown>;
  const keys = Object.keys(obj);
  const key = r.pick(keys);
  const choice = r.int(0, 2);
  if (choice === 0) return { label: `json:${key}=garbage`, text: r.pick(HOSTILE_JSON) };
  const v = r.pick<unknown>([...ABSURD, {}, [], 'a'.repeat(r.int(1, 1000))]);
  obj[key] = v;
  return { label: `json.${key}=${JSON.stringify(v)?.slice(0, 20)}`, text: JSON.stringify(obj) };
}

function sqlMutation(r: Rng, file: string): string {
  const db = new Database(file);
  try {
    const which = r.int(0, 6);
    switch (which) {
      case 0: {
        const probe = db.prepare('SELECT probe FROM source').pluck().get() as string;
        const m = jsonSet(r, probe);
        db.prepare('UPDATE source SET probe = ?').run(m.text);
        return `probe ${m.label}`;
      }
      case 1: {
        const json = db.prepare('SELECT json FROM settings').pluck().get() as string;
        const m = jsonSet(r, json);
        db.prepare('UPDATE settings SET json = ?').run(m.text);
        return `settings ${m.label}`;
      }
      case 2: {
        const probe = JSON.parse(db.prepare('SELECT probe FROM source').pluck().get() as string) as Record<string, unknown>;
        probe.frameCount = r.pick([0, -5, 1e9, 2 ** 40, 1.5, 13, 11]);
        db.prepare('UPDATE source SET probe = ?').run(JSON.stringify(probe));
        return `frameCount=${String(probe.frameCount)}`;
      }
      case 3: {
        const frame = r.pick([12, 13, 1000, 2 ** 31, 2 ** 53 - 1]);
        db.prepare("INSERT OR REPLACE INTO keyframes (frame, image, origin, params_hash, mask, prompt, updated_at) VALUES (?, ?, 'edited', NULL, NULL, NULL, 'now')").run(frame, Buffer.from(r.bytes(r.int(0, 64))));
        return `keyframe row ${frame}`;
      }
      case 4: {
        const frame = r.int(0, 11);
        db.prepare('UPDATE keyframes SET image = ? WHERE frame = ?').run(Buffer.from(r.bytes(r.int(1, 200))), frame);
        db.prepare("INSERT OR IGNORE INTO keyframes (frame, image, origin, params_hash, mask, prompt, updated_at) VALUES (?, ?, 'edited', NULL, ?, NULL, 'now')").run(frame, Buffer.from(r.bytes(50)), Buffer.from(r.bytes(20)));
        return `keyframe ${frame} garbage image`;
      }
      case 5: {
        const frame = r.int(0, 11);
        db.prepare('UPDATE renders SET image = ? WHERE frame = ?').run(Buffer.from(r.bytes(r.int(0, 200))), frame);
        return `render ${frame} garbage`;
      }
      default: {
        const working = JSON.parse(db.prepare('SELECT working FROM source').pluck().get() as string) as Record<string, unknown>;
        const key = r.pick(['width', 'height', 'shortSide']);
        working[key] = r.pick([0, -64, 1e7, 63, 'x']);
        db.prepare('UPDATE source SET working = ?').run(JSON.stringify(working));
        return `working.${key}=${String(working[key])}`;
      }
    }
  } finally {
    db.close();
  }
}

/** Mutates the project file in place (it must be a private copy). */
export function mutateProject(r: Rng, file: string): ProjectMutation {
  if (r.bool(0.5)) return { kind: 'sql', label: sqlMutation(r, file) };
  const src = readFileSync(file);
  const pages = Math.floor(src.length / PAGE);
  const which = r.int(0, 3);
  let label: string;
  let out: Buffer;
  if (which === 0) {
    const page = r.int(0, pages - 1);
    out = Buffer.from(src);
    const fill = r.bool() ? Buffer.alloc(PAGE) : Buffer.from(r.bytes(PAGE));
    fill.copy(out, page * PAGE);
    label = `page ${page} overwritten`;
  } else if (which === 1) {
    const page = r.int(0, pages - 1);
    out = Buffer.from(src.subarray(0, page * PAGE));
    label = `truncated to ${page} pages`;
  } else if (which === 2) {
    ({ label, bytes: out } = truncate(r, src));
  } else {
    ({ label, bytes: out } = flipBits(r, src, r.int(1, 64)));
  }
  writeFileSync(file, out);
  return { kind: 'bytes', label };
}
