// The daily checkpoint run's settings (issue 24): defaults, an absolute folder, hours from 0 (off) to
// 744; anything else refused, so a typo cannot silently stop the archive.
import { describe, expect, it } from 'vitest';
import { checkpointSettingsFrom } from '../../../src/main/checkpoint/checkpointSettings';

describe('checkpoint settings [CKPT-DAILY]', () => {
  it('defaults to <dataDir>/checkpoints once a day, and takes an absolute folder and hours [CKPT-DAILY]', () => {
    expect(checkpointSettingsFrom({}, '/data')).toEqual({
      checkpointDir: '/data/checkpoints',
      checkpointEveryMs: 24 * 3_600_000,
    });
    expect(
      checkpointSettingsFrom(
        { COUNTERSIGN_CHECKPOINT_DIR: '/mnt/offsite', COUNTERSIGN_CHECKPOINT_HOURS: '6' },
        '/d',
      ),
    ).toEqual({ checkpointDir: '/mnt/offsite', checkpointEveryMs: 6 * 3_600_000 });
    expect(checkpointSettingsFrom({ COUNTERSIGN_CHECKPOINT_HOURS: '0' }, '/d').checkpointEveryMs).toBe(0);
  });

  it('refuses a relative folder and hours out of range [CKPT-DAILY]', () => {
    expect(() => checkpointSettingsFrom({ COUNTERSIGN_CHECKPOINT_DIR: 'offsite' }, '/d')).toThrow(/absolute/);
    for (const hours of ['-1', 'daily', '745'])
      expect(() => checkpointSettingsFrom({ COUNTERSIGN_CHECKPOINT_HOURS: hours }, '/d')).toThrow(/0 to 744/);
  });
});
