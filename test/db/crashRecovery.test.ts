// A Countersign killed outright (SIGKILL) in the middle of a write: the embedded PostgreSQL it
// started is left running with the write in flight. The next start must recover on its own: stop
// that orphan (which rolls the unfinished write back), start again, and lose nothing committed.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { demoPerson } from '../../src/main/backend/demo/demoPeople';
import { createWorkstation, type Workstation } from '../../src/main/workstation';
import { freePort } from './support/freePort';

const childScript = fileURLToPath(new URL('./support/backendChildProcess.ts', import.meta.url));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('recovery after Countersign is killed mid-write [OPS-CRASH]', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-crash-'));
  let workstation: Workstation | null = null;

  afterAll(async () => {
    await workstation?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stops the orphaned server, rolls back the write in flight and keeps every committed row', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', childScript, dataDir, String(port)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const report = await new Promise<{ committed: string; postgresPid: number }>((resolve, reject) => {
      let buffer = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const line = buffer.split('\n').find((candidate) => candidate.startsWith('{'));
        if (line) resolve(JSON.parse(line));
      });
      child.once('exit', (code) => reject(new Error(`the child process exited early (${code})`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(isAlive(report.postgresPid)).toBe(true); // the orphan, still holding the data folder

    const lines: string[] = [];
    workstation = await createWorkstation({
      dataDir,
      env: { COUNTERSIGN_PG_PORT: String(port) },
      log: (line) => lines.push(line),
    });
    await workstation.backendSettled;
    const status = await workstation.handlers['backend.status']({});
    expect(status.state).toBe('ready');
    expect(isAlive(report.postgresPid)).toBe(false);
    expect(lines.some((line) => line.includes('left running by a Countersign that ended'))).toBe(true);

    const admin = demoPerson('admin');
    const client = new pg.Client({
      host: '127.0.0.1',
      port,
      database: 'countersign',
      user: admin.email,
      password: admin.password,
    });
    await client.connect();
    try {
      const committed = await client.query('select state from cro.staging_record where id = $1', [
        report.committed,
      ]);
      expect(committed.rows).toEqual([{ state: 'proposed' }]);
      const inFlight = await client.query(
        `select count(*)::int as n from cro.provenance_event where subject_id = 'in-flight'`,
      );
      expect(inFlight.rows[0].n).toBe(0);
      const audit = await client.query(
        `select count(*)::int as n from audit.audit_log where event_type = 'staging.proposed' and payload->>'staging_id' = $1`,
        [report.committed],
      );
      expect(audit.rows[0].n).toBe(1);
    } finally {
      await client.end();
    }
  });
});
