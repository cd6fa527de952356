// The workstation's daily checkpoint run, as configured (issue 24): COUNTERSIGN_CHECKPOINT_DIR, the
// folder the checkpoint files go to (default <dataDir>/checkpoints; point it at a folder that is
// copied off-site), and COUNTERSIGN_CHECKPOINT_HOURS, how often one is written while the app is open
// (default 24; 0 turns the files off, never the cosigning). Anything else is refused, so that a typo
// cannot silently stop the archive.
import { isAbsolute, join } from 'node:path';

export interface CheckpointSettings {
  checkpointDir: string;
  checkpointEveryMs: number;
}

export function checkpointSettingsFrom(
  env: Record<string, string | undefined>,
  dataDir: string,
): CheckpointSettings {
  const dir = env.COUNTERSIGN_CHECKPOINT_DIR?.trim();
  if (dir && !isAbsolute(dir)) {
    throw new Error(`COUNTERSIGN_CHECKPOINT_DIR must be an absolute path (it is "${dir}").`);
  }
  const raw = env.COUNTERSIGN_CHECKPOINT_HOURS?.trim();
  const hours = raw === undefined || raw === '' ? 24 : Number(raw);
  if (!Number.isFinite(hours) || hours < 0 || hours > 24 * 31) {
    throw new Error(`COUNTERSIGN_CHECKPOINT_HOURS must be a number of hours from 0 to 744 (it is "${raw}").`);
  }
  return {
    checkpointDir: dir || join(dataDir, 'checkpoints'),
    checkpointEveryMs: Math.round(hours * 3_600_000),
  };
}
