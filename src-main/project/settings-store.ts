// The single settings row: read once, validated on every write, kept in memory in between.
import type Database from 'better-sqlite3';
import { ProjectError } from './errors.ts';
import { applySettingsPatch, parseSettings, settingsSchema, type ProjectSettings } from './settings.ts';
import { nowIso, parseStored } from './validate.ts';

export class SettingsStore {
  readonly #read: Database.Statement<[], { json: string }>;
  readonly #write: Database.Statement<[string, string]>;
  #current: ProjectSettings | null = null;

  constructor(db: Database.Database) {
    this.#read = db.prepare('SELECT json FROM settings WHERE id = 1');
    this.#write = db.prepare('INSERT OR REPLACE INTO settings (id, json, updated_at) VALUES (1, ?, ?)');
  }

  /** The settings; stored fields that a newer build added defaults for are filled in. */
  get(): ProjectSettings {
    if (this.#current === null) {
      const row = this.#read.get();
      if (!row) throw new ProjectError('NOT_A_PROJECT', 'The project file has no settings row');
      this.#current = parseStored(settingsSchema, row.json, 'the stored settings');
    }
    return structuredClone(this.#current);
  }

  /** Writes complete settings (validated). */
  put(settings: unknown): ProjectSettings {
    const valid = parseSettings(settings);
    this.#write.run(JSON.stringify(valid), nowIso());
    this.#current = valid;
    return structuredClone(valid);
  }

  /** Drops the in-memory copy: after a rolled-back transaction the file is the truth again. */
  forget(): void {
    this.#current = null;
  }

  /** Merges `patch` into the current settings, validates the result, and persists it. */
  update(patch: unknown): ProjectSettings {
    const next = applySettingsPatch(this.get(), patch);
    this.#write.run(JSON.stringify(next), nowIso());
    this.#current = next;
    return structuredClone(next);
  }
}
