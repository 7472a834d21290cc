/** libfaketime's offset files and environment: the format, atomic rewrites, finding the library. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { faketimeEnv, findLibfaketime, formatClockOffset, LIBFAKETIME_PATHS, LibfaketimeMissingError, writeClockOffset } from '../../../cluster/local/faketime.js';

describe('cluster/local: faketime', () => {
  it('formats offsets in libfaketime relative syntax, to the millisecond', () => {
    const table: [number, string][] = [
      [0, '+0.000'],
      [600, '+600.000'],
      [-0.25, '-0.250'],
      [1.23456, '+1.235'],
      [-2.0004, '-2.000'],
      [-0.0001, '+0.000'],
    ];
    for (const [s, text] of table) assert.equal(formatClockOffset(s), text, String(s));
    assert.throws(() => formatClockOffset(Number.NaN), RangeError);
    assert.throws(() => formatClockOffset(Infinity), /finite/);
  });

  it('writes the offset file whole, replacing the last one, leaving no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsync-faketime-'));
    try {
      const file = join(dir, 'n1.clock');
      writeClockOffset(file, 600);
      assert.equal(readFileSync(file, 'utf8'), '+600.000\n');
      writeClockOffset(file, -1.5);
      assert.equal(readFileSync(file, 'utf8'), '-1.500\n');
      assert.deepEqual(readdirSync(dir), ['n1.clock']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds the library at the Debian path or $DSYNC_LIBFAKETIME, and says which package is missing', () => {
    const debian = LIBFAKETIME_PATHS[0];
    assert.equal(findLibfaketime({}, (p) => p === debian), debian);
    assert.equal(findLibfaketime({ DSYNC_LIBFAKETIME: '/opt/ft.so' }, (p) => p === '/opt/ft.so'), '/opt/ft.so');
    assert.throws(
      () => findLibfaketime({}, () => false),
      (e: unknown) => e instanceof LibfaketimeMissingError && e.code === 'LIBFAKETIME_MISSING' && /libfaketime\.so\.1.*apt-get install libfaketime/.test(e.message) && e.message.includes(debian),
    );
    assert.throws(() => findLibfaketime({ DSYNC_LIBFAKETIME: '/nope.so' }, (p) => p === debian), /not found at \/nope\.so/);
  });

  it('the environment preloads the library, rereads the file on every call and leaves monotonic clocks alone', () => {
    assert.deepEqual(faketimeEnv('/lib/ft.so', '/s/n1.clock'), {
      LD_PRELOAD: '/lib/ft.so',
      FAKETIME_TIMESTAMP_FILE: '/s/n1.clock',
      FAKETIME_NO_CACHE: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    });
  });
});
