// "Save as…" for an exported packet in the desktop app: the person picks where a copy goes (the
// Electron host asks with its save dialog); the packet in the data folder's exports/ stays as written.
// The browser host offers the same file as a download instead (browserHost.ts, /downloads/).
import { copyFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { UserFacingError } from '../userFacingError';
import { exportsDir } from './exportService';

/** Asks the person where to save; null when they cancel. */
export type ChooseDestination = (suggestedName: string) => Promise<string | null>;

export async function savePacketCopy(
  dataDir: string,
  fileName: string,
  chooseDestination: ChooseDestination,
): Promise<{ savedTo: string | null }> {
  if (basename(fileName) !== fileName || !fileName.endsWith('.zip')) {
    throw new UserFacingError('Name a packet file in the exports folder.');
  }
  const source = join(exportsDir(dataDir), fileName);
  const destination = await chooseDestination(fileName);
  if (destination === null) return { savedTo: null };
  try {
    await copyFile(source, destination);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new UserFacingError(
      code === 'ENOENT'
        ? `There is no packet named ${fileName} in the exports folder.`
        : `The packet could not be saved there (${code ?? 'error'}); choose another place.`,
    );
  }
  return { savedTo: destination };
}
