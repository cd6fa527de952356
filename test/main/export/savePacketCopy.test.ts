// The desktop app's "Save a copy as…": the copy lands where the person chose, byte for byte; a
// cancelled dialog saves nothing; a name that is not a packet of the exports folder is refused.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { savePacketCopy } from '../../../src/main/export/savePacketCopy';

let dataDir: string;
const name = 'packet-all-2026-12-07T07-00-00-000Z.zip';

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'countersign-save-as-'));
  await mkdir(join(dataDir, 'exports'));
  await writeFile(join(dataDir, 'exports', name), 'PK packet bytes');
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

describe('saving a copy of an exported packet [EXPORT-DOWNLOAD]', () => {
  it('copies the packet where the person chose, suggesting its own name', async () => {
    const target = join(dataDir, 'chosen.zip');
    const suggested: string[] = [];
    const result = await savePacketCopy(dataDir, name, async (suggestion) => {
      suggested.push(suggestion);
      return target;
    });
    expect(result).toEqual({ savedTo: target });
    expect(suggested).toEqual([name]);
    expect(await readFile(target, 'utf8')).toBe('PK packet bytes');
  });

  it('saves nothing when the dialog is cancelled', async () => {
    expect(await savePacketCopy(dataDir, name, async () => null)).toEqual({ savedTo: null });
  });

  it('refuses names outside the exports folder and says when the packet is missing', async () => {
    const never = async () => {
      throw new Error('the dialog must not open');
    };
    await expect(savePacketCopy(dataDir, '../secret.zip', never)).rejects.toThrow(/Name a packet file/);
    await expect(savePacketCopy(dataDir, 'notes.txt', never)).rejects.toThrow(/Name a packet file/);
    await expect(
      savePacketCopy(dataDir, 'packet-missing.zip', async () => join(dataDir, 'x.zip')),
    ).rejects.toThrow(/no packet named packet-missing.zip/);
  });
});
