// The workstation's own checkpoint run in hosted mode (issue 24): an inspector signed in through the
// Supabase stand-in over HTTP syncs with the SyncService, which verifies the chain, cosigns the
// verified head through public.submit_checkpoint_cosignature (PostgREST, the person's token), pulls
// the cosignature back into the cache and writes the day's checkpoint file into the data folder.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SupabaseSession } from '../../src/main/backend/supabase/supabaseSession';
import { FileCacheKeyStore } from '../../src/main/cache/cacheKeyStore';
import { readCheckpointFile } from '../../src/main/checkpoint/checkpointFile';
import { SyncService } from '../../src/main/sync/syncService';
import { worldPassword } from './support/accessWorld';
import { type SupabaseStandIn, startStandInOver, totpAt } from './support/supabaseStandIn';
import { syncWorld } from './support/syncWorld';

describe('checkpoints from a hosted workstation [CKPT-DAILY]', () => {
  const setup = syncWorld();
  let standIn: SupabaseStandIn;
  beforeAll(async () => {
    standIn = await startStandInOver(setup.db);
  });
  afterAll(async () => {
    await standIn?.close();
  });

  it('cosigns after a verified sync, sends over HTTP, and writes the daily checkpoint file once a day [CKPT-DAILY, CKPT-COSIGN]', async () => {
    const inspector = setup.world.people.inspector;
    const session = await SupabaseSession.signIn(
      { url: standIn.url, anonKey: standIn.anonKey },
      inspector.email,
      worldPassword,
      totpAt('JBSWY3DPEHPK3PXP', Date.now() / 1000),
      { autoRefreshToken: false },
    );
    const dataDir = mkdtempSync(join(tmpdir(), 'countersign-ckpt-hosted-'));
    const log: string[] = [];
    const service = new SyncService({
      dataDir,
      keyStore: new FileCacheKeyStore(join(dataDir, 'keys')),
      log: (line) => log.push(line),
      emit: () => undefined,
    });
    try {
      await service.openHosted({
        identity: session.identity,
        backend: { host: '127.0.0.1', port: Number(new URL(standIn.url).port), database: 'hosted' },
        password: worldPassword,
        server: session.syncServer(),
      });
      const status = await service.syncNow();
      const { rows } = await setup.db.operator.query<{ seq: string }>(
        'select max(seq)::text as seq from audit.audit_log',
      );
      const head = Number(rows[0]?.seq);
      expect(status.chain).toMatchObject({ ok: true, verifiedThroughSeq: head });
      expect(status.checkpoint).toMatchObject({ state: 'cosigned', treeSize: head, problem: null });

      // (The access world holds a fixture row of the inspector's with a random signature: ignored.)
      const mine = 'select 1 from audit.checkpoint_cosignature where user_id = $1 and tree_size = $2';
      expect((await setup.db.operator.query(mine, [inspector.id, head])).rows).toHaveLength(1);
      const cached = service
        .cache()
        .prepare('select count(*) from checkpoint_cosignature where user_id = ? and tree_size = ?')
        .pluck();
      expect(cached.get(inspector.id, head)).toBe(1);

      const folder = join(dataDir, 'checkpoints');
      const files = readdirSync(folder);
      expect(files).toHaveLength(1);
      const read = readCheckpointFile(join(folder, files[0] as string));
      expect(read.problems).toEqual([]);
      expect(read.file?.checkpoint.treeSize).toBe(head);
      expect(read.file?.cosignatures.map((c) => c.userId)).toEqual([inspector.id]);

      // The next sync the same day writes no second file and sends nothing again.
      await service.syncNow();
      expect(readdirSync(folder)).toHaveLength(1);
      expect((await setup.db.operator.query(mine, [inspector.id, head])).rows).toHaveLength(1);
      expect(log.join('\n')).not.toContain(worldPassword);
    } finally {
      await service.close();
      await session.close().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
