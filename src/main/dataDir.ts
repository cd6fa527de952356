// Where the browser host keeps its data (the embedded PostgreSQL cluster, the cache). Electron uses
// app.getPath('userData') instead; this mirrors the platform conventions without Electron.
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface DataDirEnvironment {
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  homeDir: string;
  /** The process's user id (undefined on Windows). */
  uid?: number;
}

/** Pure: the folder to use, without touching the disk. */
export function resolveDataDir({ env, platform, homeDir, uid }: DataDirEnvironment): string {
  const explicit = env.COUNTERSIGN_DATA_DIR;
  if (explicit !== undefined && explicit !== '') return explicit;
  // As root the embedded PostgreSQL runs as the system user postgres, which cannot enter /root.
  if (uid === 0 && platform !== 'win32' && platform !== 'darwin') return '/var/lib/countersign';
  if (platform === 'darwin') return join(homeDir, 'Library', 'Application Support', 'Countersign');
  if (platform === 'win32') return join(env.APPDATA || join(homeDir, 'AppData', 'Roaming'), 'Countersign');
  const xdgDataHome = env.XDG_DATA_HOME;
  if (xdgDataHome !== undefined && xdgDataHome !== '') return join(xdgDataHome, 'countersign');
  return join(homeDir, '.local', 'share', 'countersign');
}

/** The default data folder for this machine, created (owner-only, 0700) if it does not exist. */
export function defaultDataDir(): string {
  const dir = resolveDataDir({
    env: process.env,
    platform: process.platform,
    homeDir: homedir(),
    uid: process.getuid?.(),
  });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}
