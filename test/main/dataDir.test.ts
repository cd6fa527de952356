import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveDataDir } from '../../src/main/dataDir';

const home = '/home/reviewer';

describe('resolveDataDir', () => {
  it('prefers COUNTERSIGN_DATA_DIR on every platform', () => {
    const env = { COUNTERSIGN_DATA_DIR: '/srv/countersign', XDG_DATA_HOME: '/xdg' };
    expect(resolveDataDir({ env, platform: 'linux', homeDir: home })).toBe('/srv/countersign');
    expect(resolveDataDir({ env, platform: 'darwin', homeDir: home })).toBe('/srv/countersign');
  });

  it('follows XDG_DATA_HOME on Linux, else ~/.local/share', () => {
    expect(resolveDataDir({ env: { XDG_DATA_HOME: '/xdg' }, platform: 'linux', homeDir: home })).toBe(
      join('/xdg', 'countersign'),
    );
    expect(resolveDataDir({ env: {}, platform: 'linux', homeDir: home })).toBe(
      join(home, '.local', 'share', 'countersign'),
    );
  });

  it('uses the platform folders on macOS and Windows', () => {
    expect(resolveDataDir({ env: {}, platform: 'darwin', homeDir: home })).toBe(
      join(home, 'Library', 'Application Support', 'Countersign'),
    );
    expect(
      resolveDataDir({
        env: { APPDATA: 'C:\\Users\\r\\AppData\\Roaming' },
        platform: 'win32',
        homeDir: home,
      }),
    ).toBe(join('C:\\Users\\r\\AppData\\Roaming', 'Countersign'));
  });

  it("puts a root user's data where the postgres system user can reach it on Linux", () => {
    expect(resolveDataDir({ env: {}, platform: 'linux', homeDir: '/root', uid: 0 })).toBe(
      '/var/lib/countersign',
    );
    expect(
      resolveDataDir({
        env: { COUNTERSIGN_DATA_DIR: '/srv/cs' },
        platform: 'linux',
        homeDir: '/root',
        uid: 0,
      }),
    ).toBe('/srv/cs');
    expect(resolveDataDir({ env: {}, platform: 'linux', homeDir: home, uid: 1000 })).toBe(
      join(home, '.local', 'share', 'countersign'),
    );
  });
});
