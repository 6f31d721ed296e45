// Which SQLite errors mean a damaged project file (reported as DAMAGED, exit 3) and which are bugs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSqliteDamage } from '../../src-main/project/damage.ts';

const sqliteError = (code: string, message: string): Error => Object.assign(new Error(message), { code });

test('corruption codes and a schema missing what its version promises are damage; other errors are not', () => {
  assert.equal(isSqliteDamage(sqliteError('SQLITE_CORRUPT', 'database disk image is malformed')), true);
  assert.equal(isSqliteDamage(sqliteError('SQLITE_NOTADB', 'file is not a database')), true);
  assert.equal(isSqliteDamage(sqliteError('SQLITE_ERROR', 'no such column: origin')), true);
  assert.equal(isSqliteDamage(sqliteError('SQLITE_ERROR', 'no such table: keyframes')), true);
  assert.equal(isSqliteDamage(sqliteError('SQLITE_ERROR', 'table renders has no column named created_at')), true, 'an INSERT into a column whose name the damage changed');
  assert.equal(isSqliteDamage(sqliteError('SQLITE_ERROR', 'near "SELEC": syntax error')), false);
  assert.equal(isSqliteDamage(sqliteError('SQLITE_BUSY', 'database is locked')), false);
  assert.equal(isSqliteDamage(new Error('no such column: origin')), false);
});
