// Cosigned checkpoints against the real PostgreSQL (issue 24): workstations of an inspector and an
// administrator sync, verify the chain and cosign; the cosignatures reach the server's append-only
// table and every reader's cache. Then a privileged operator rewrites history (triggers disabled, one
// payload changed, every hash recomputed from that row to the head, triggers enabled): the
// workstation that cosigned catches it on its next sync, with and without new entries after the
// rewrite; a fresh workstation refuses the old cosignatures; a packet exported from the rewritten log
// fails verification against the checkpoint file archived before the rewrite.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3-multiple-ciphers';
import { afterAll, describe, expect, it } from 'vitest';
import { advanceAuditTree, checkpointOf } from '../../src/main/cache/auditTree';
import type { Checkpoint, Ed25519Signer } from '../../src/main/checkpoint/checkpoint';
import { writeCheckpointNow } from '../../src/main/checkpoint/checkpointArchive';
import { readCheckpointFile } from '../../src/main/checkpoint/checkpointFile';
import {
  cachedCosignatures,
  cacheTreeAt,
  cosign,
  cosignAfterVerifiedSync,
  historyRewritten,
} from '../../src/main/checkpoint/cosigner';
import { ed25519SignerOf } from '../../src/main/checkpoint/ed25519Signer';
import { buildPacket } from '../../src/main/export/exportPacket';
import { checkPacketAgainstCheckpoint } from '../../src/main/export/packetConsistency';
import { verifyChainFrom } from '../../src/main/sync/chainVerifier';
import { postgresSyncServer } from '../../src/main/sync/postgresSyncServer';
import { pullAll } from '../../src/main/sync/pullEngine';
import type { SyncServer } from '../../src/main/sync/syncServer';
import { operatorTransaction } from './support/accessWorld';
import { cosignatureRow } from './support/cosignatureRows';
import { syncWorld } from './support/syncWorld';

const newSigner = (): Ed25519Signer => ed25519SignerOf(generateKeyPairSync('ed25519').privateKey);

/** One workstation sync as SyncService runs it: pull, verify the chain, cosign, pull what was sent. */
async function syncAndCosign(cache: Database, server: SyncServer, signer: Ed25519Signer, userId: string) {
  await pullAll(cache, server);
  const chain = verifyChainFrom(cache);
  advanceAuditTree(cache);
  const outcome = await cosignAfterVerifiedSync({
    db: cache,
    server,
    signer,
    userId,
    chain,
    now: () => new Date(),
    log: () => undefined,
  });
  if (outcome.sent > 0) await pullAll(cache, server);
  return { chain, outcome };
}

describe('cosigned checkpoints and history rewrites [CKPT-COSIGN]', () => {
  const setup = syncWorld();
  const archive = mkdtempSync(join(tmpdir(), 'countersign-checkpoints-'));
  afterAll(() => rmSync(archive, { recursive: true, force: true }));

  const op = () => setup.db.operator;
  const headSeq = async () =>
    Number(
      (await op().query<{ seq: string }>('select max(seq)::text as seq from audit.audit_log')).rows[0]?.seq,
    );

  /** A new audit entry (a diary update by the patient of A1). */
  const appendEntry = () =>
    operatorTransaction(op(), { sub: setup.world.people.patient.id }, async () => {
      const { rows } = await op().query<{ last: string }>(
        'select last_audit_id::text as last from diary.record_state where event_uuid = $1',
        [setup.world.records.in.eventUuid],
      );
      await op().query(
        `insert into diary.record_audit (event_uuid, patient_id, site_id, operation, data, client_timestamp, parent_audit_id, change_reason)
         values ($1, $2, 'A1', 'USER_UPDATE', '{"event_type":"headache","date":"2026-03-02","intensity":"mild"}', now(), $3, 'better')`,
        [setup.world.records.in.eventUuid, setup.world.people.patient.id, rows[0]?.last],
      );
    });

  /**
   * The attack: as the superuser, triggers off, one row's payload changed and payload_hash,
   * prev_hash and entry_hash recomputed from that row to the head, triggers on. The server's chain
   * verifies again from genesis.
   */
  const rewriteHistory = async (seq: number) => {
    await op().query('begin');
    await op().query('alter table audit.audit_log disable trigger user');
    await op().query(`update audit.audit_log set payload = payload || '{"rewritten":true}' where seq = $1`, [
      seq,
    ]);
    await op().query(
      `do $$
       declare
         r record;
         previous text;
       begin
         select entry_hash into previous from audit.audit_log where seq = ${seq - 1};
         for r in select * from audit.audit_log where seq >= ${seq} order by seq loop
           update audit.audit_log
              set payload_hash = cs_private.json_sha256(r.payload),
                  prev_hash = previous,
                  entry_hash = audit.entry_hash(r.seq, r.occurred_at, r.actor, r.event_type,
                                                cs_private.json_sha256(r.payload), previous)
            where seq = r.seq
           returning entry_hash into previous;
         end loop;
       end
       $$`,
    );
    await op().query('alter table audit.audit_log enable trigger user');
    await op().query('commit');
  };

  /** A one-record packet from a cache, signed with the key, carrying the given cosignatures. */
  const exportPacket = async (
    cache: Database,
    signer: Ed25519Signer,
    userId: string,
    withCosignatures: boolean,
    knownCheckpoints: Checkpoint[] = [],
  ) =>
    (
      await buildPacket(cache, {
        scope: {
          selector: { kind: 'staging', stagingIds: [setup.world.rows.staging.in] },
          from: null,
          to: null,
        },
        allowBrokenChain: false,
        generatedBy: { userId, printedName: 'Checkpoint test', roles: ['inspector'] },
        signer,
        ...(withCosignatures ? { knownCosignatures: cachedCosignatures(cache) } : {}),
        knownCheckpoints,
      })
    ).zip;

  const inspectorSigner = newSigner();
  const adminSigner = newSigner();
  let archivedFile = '';

  it('cosigns the verified head; the cosignatures reach the server and every reader, idempotent on resend [CKPT-COSIGN]', async () => {
    const inspector = setup.world.people.inspector;
    const admin = setup.world.people.admin;
    const inspectorCache = setup.cacheOf(`${inspector.id}-ckpt`);
    const adminCache = setup.cacheOf(`${admin.id}-ckpt`);
    const inspectorServer = postgresSyncServer(setup.world.clients.inspector);
    const adminServer = postgresSyncServer(setup.world.clients.admin);

    const first = await syncAndCosign(inspectorCache, inspectorServer, inspectorSigner, inspector.id);
    const head = await headSeq();
    expect(first.chain).toMatchObject({ ok: true, verifiedThroughSeq: head });
    expect(first.outcome).toMatchObject({ state: 'cosigned', treeSize: head, sent: 1 });

    // The admin's workstation sees the inspector's cosignature and cosigns the same checkpoint.
    const second = await syncAndCosign(adminCache, adminServer, adminSigner, admin.id);
    expect(second.outcome).toMatchObject({ state: 'cosigned', treeSize: head, cosigners: 2 });
    const checkpoint = checkpointOf(adminCache);
    expect(checkpoint?.treeSize).toBe(head);
    expect(
      cachedCosignatures(adminCache, checkpoint ?? undefined)
        .map((c) => c.keyFingerprint)
        .sort(),
    ).toEqual([inspectorSigner.keyFingerprint, adminSigner.keyFingerprint].sort());

    // A resend (a lost answer) writes nothing twice.
    if (!checkpoint) throw new Error('no checkpoint');
    const again = cosign(checkpoint, inspectorSigner, inspector.id, new Date());
    expect(await inspectorServer.submitCosignature?.(again)).toEqual({ replayed: true });
    const { rows } = await op().query<{ n: number }>(
      'select count(*)::int as n from audit.checkpoint_cosignature where key_fingerprint = $1',
      [inspectorSigner.keyFingerprint],
    );
    expect(rows[0]?.n).toBe(1);

    // Nothing new: the next sync sends nothing.
    expect(
      (await syncAndCosign(inspectorCache, inspectorServer, inspectorSigner, inspector.id)).outcome.sent,
    ).toBe(0);

    // The day's checkpoint file, archived off-site before anything happens.
    await pullAll(inspectorCache, inspectorServer);
    const written = writeCheckpointNow({
      db: inspectorCache,
      signer: inspectorSigner,
      userId: inspector.id,
      printedName: 'Inspector',
      dir: archive,
      now: new Date(),
    });
    archivedFile = written.path;
    const read = readCheckpointFile(written.path);
    expect(read.problems).toEqual([]);
    expect(read.file?.checkpoint).toEqual(checkpoint);
    expect(read.file?.cosignatures.map((c) => c.keyFingerprint).sort()).toEqual(
      [inspectorSigner.keyFingerprint, adminSigner.keyFingerprint].sort(),
    );

    // An honest packet is consistent with the archive: same size, then one entry later (it carries
    // the consistency proof from the cosigned size it knows).
    const archived = read.file?.checkpoint as NonNullable<typeof checkpoint>;
    const same = await exportPacket(adminCache, adminSigner, admin.id, true);
    expect(checkPacketAgainstCheckpoint(same, archived)).toEqual([]);
    await appendEntry();
    await syncAndCosign(adminCache, adminServer, adminSigner, admin.id);
    expect(checkpointOf(adminCache)?.treeSize).toBe(archived.treeSize + 1);
    const later = await exportPacket(adminCache, adminSigner, admin.id, true);
    expect(checkPacketAgainstCheckpoint(later, archived)).toEqual([]);
    // The inspector's workstation follows (its cache is at the new head before the rewrite below).
    const followed = await syncAndCosign(inspectorCache, inspectorServer, inspectorSigner, inspector.id);
    expect(followed.outcome).toMatchObject({ state: 'cosigned', treeSize: archived.treeSize + 1 });

    // A third workstation arriving now cosigns the head and the earlier checkpoint the others
    // cosigned, which its own tree matches.
    const third = newSigner();
    const thirdRun = await syncAndCosign(setup.cacheOf(`${admin.id}-third`), adminServer, third, admin.id);
    expect(thirdRun.outcome).toMatchObject({ state: 'cosigned', treeSize: archived.treeSize + 1, sent: 2 });
    const { rows: thirdRows } = await op().query<{ size: number }>(
      'select tree_size::int as size from audit.checkpoint_cosignature where key_fingerprint = $1 order by 1',
      [third.keyFingerprint],
    );
    expect(thirdRows.map((r) => r.size)).toEqual([archived.treeSize, archived.treeSize + 1]);
  });

  it('catches a rewrite without new entries on the next sync of a workstation that cosigned, and stops cosigning [CKPT-REWRITE]', async () => {
    const inspector = setup.world.people.inspector;
    const cache = setup.cacheOf(`${inspector.id}-ckpt`);
    const server = postgresSyncServer(setup.world.clients.inspector);
    const before = await headSeq();
    await rewriteHistory(5);
    expect(await headSeq()).toBe(before);

    const next = await syncAndCosign(cache, server, inspectorSigner, inspector.id);
    // Nothing new arrived, so the cached chain itself still verifies: the server check catches it.
    expect(next.chain.ok).toBe(true);
    expect(next.outcome).toMatchObject({ state: 'rewritten', sent: 0 });
    expect(next.outcome.problem).toMatch(/History rewritten.*audit entry \d+/);
    expect(historyRewritten(cache)).toBe(next.outcome.problem);
    // It stays so: no further cosigning from this workstation.
    const later = await syncAndCosign(cache, server, inspectorSigner, inspector.id);
    expect(later.outcome).toMatchObject({ state: 'rewritten', sent: 0 });
  });

  it('a fresh workstation syncing the rewritten log refuses the old cosignatures, and its packet fails against the archived checkpoint file [CKPT-REWRITE, CKPT-VERIFY]', async () => {
    const admin = setup.world.people.admin;
    const fresh = setup.cacheOf(`${admin.id}-fresh`);
    const server = postgresSyncServer(setup.world.clients.admin);
    const signer = newSigner();
    const outcome = await syncAndCosign(fresh, server, signer, admin.id);
    expect(outcome.chain.ok).toBe(true); // the rewritten chain is self-consistent
    expect(outcome.outcome).toMatchObject({ state: 'rewritten', sent: 0 });
    expect(outcome.outcome.problem).toMatch(/does not match the checkpoint at tree size \d+ cosigned by key/);
    // Nothing was cosigned by the fresh key.
    const { rows } = await op().query<{ n: number }>(
      'select count(*)::int as n from audit.checkpoint_cosignature where key_fingerprint = $1',
      [signer.keyFingerprint],
    );
    expect(rows[0]?.n).toBe(0);

    // It may still export (without the contradicted cosignatures: with them the export refuses)...
    await expect(exportPacket(fresh, signer, admin.id, true)).rejects.toThrow(/rewritten|differ/i);
    // ...but its packet is not consistent with the checkpoint file archived before the rewrite. The
    // packet carries a consistency proof from the archived size (its cache's own checkpoint there,
    // of the rewritten log), which cannot join the archived root.
    const archived = readCheckpointFile(archivedFile);
    expect(archived.ok).toBe(true);
    const archivedCheckpoint = archived.file?.checkpoint as Checkpoint;
    const ownAtArchivedSize = cacheTreeAt(fresh).checkpointAt(archivedCheckpoint.treeSize) as Checkpoint;
    expect(ownAtArchivedSize.rootHash).not.toBe(archivedCheckpoint.rootHash);
    const packet = await exportPacket(fresh, signer, admin.id, false, [ownAtArchivedSize]);
    const problems = checkPacketAgainstCheckpoint(packet, archivedCheckpoint);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.map((p) => `${p.where}: ${p.what}`).join('\n')).toMatch(/rewritten/i);
    // Without any proof from that size it cannot claim consistency either.
    const bare = await exportPacket(fresh, signer, admin.id, false);
    expect(
      checkPacketAgainstCheckpoint(bare, archivedCheckpoint)
        .map((p) => p.what)
        .join('\n'),
    ).toMatch(/no consistency proof from \d+ entries/);
  });

  it('catches a rewrite followed by new entries on the next sync of a workstation that cosigned [CKPT-REWRITE]', async () => {
    const admin = setup.world.people.admin;
    const cache = setup.cacheOf(`${admin.id}-ckpt`);
    const server = postgresSyncServer(setup.world.clients.admin);
    // The admin's cache verified and cosigned the head before the rewrite; an entry arrives after it.
    await appendEntry();
    const next = await syncAndCosign(cache, server, adminSigner, admin.id);
    expect(next.chain.ok).toBe(false); // the new entries do not link to the cached head
    expect(next.outcome).toMatchObject({ state: 'rewritten', sent: 0 });
    expect(next.outcome.problem).toMatch(/History rewritten/);
  });

  it('refuses update, delete and truncate for everyone, and a cosignature as someone else [CKPT-TABLE]', async () => {
    const inspector = setup.world.clients.inspector;
    const { rows } = await op().query<{ id: string }>(
      'select id::text from audit.checkpoint_cosignature limit 1',
    );
    const id = rows[0]?.id as string;
    for (const sql of [
      'update audit.checkpoint_cosignature set tree_size = tree_size + 1 where id = $1',
      'delete from audit.checkpoint_cosignature where id = $1',
    ]) {
      await expect(op().query(sql, [id])).rejects.toMatchObject({ code: 'CS403' });
    }
    await expect(op().query('truncate audit.checkpoint_cosignature')).rejects.toMatchObject({
      code: 'CS403',
    });

    // As the inspector's own login: a row in the admin's name is refused, in their own accepted.
    const someoneElse = cosignatureRow(setup.world.people.admin.id);
    const columns = Object.keys(someoneElse);
    const insert = `insert into audit.checkpoint_cosignature (${columns.join(', ')})
                    values (${columns.map((_, i) => `$${i + 1}`).join(', ')})`;
    await expect(inspector.query(insert, Object.values(someoneElse))).rejects.toMatchObject({
      code: '42501',
    });
    const own = cosignatureRow(setup.world.people.inspector.id);
    await expect(inspector.query(insert, Object.values(own))).resolves.toBeTruthy();
    // Shape: a fingerprint that is not the key's hash is refused.
    const forged = {
      ...cosignatureRow(setup.world.people.inspector.id),
      key_fingerprint: randomBytes(32).toString('hex'),
    };
    await expect(inspector.query(insert, Object.values(forged))).rejects.toMatchObject({ code: '23514' });
    // A signer (no audit-trail role) may not cosign at all.
    const signerRow = cosignatureRow(setup.world.people.signer.id);
    await expect(setup.world.clients.signer.query(insert, Object.values(signerRow))).rejects.toMatchObject({
      code: '42501',
    });
  });
});
