// export.record (issue 24): a 1-record packet from a cache whose chain is long, exported and
// verified. Format 3 carries only the record's entries with their inclusion proofs and subject-map
// leaf against the checkpoint, so the time is bounded by the subject map (one indexed scan of the
// cache's audit_subject table) and the packet's size grows with log n, not with the chain: the
// packet's bytes are printed at two chain lengths (100,000 and 1,000,000 entries at full scale).
// The chain is verified (and its tree built) before the clock starts, as after a sync.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { advanceAuditTree } from '../src/main/cache/auditTree';
import { ed25519SignerOf } from '../src/main/checkpoint/ed25519Signer';
import { buildPacket } from '../src/main/export/exportPacket';
import { verifyPacketAsync } from '../src/main/export/verifyPacket';
import { verifyChainFrom } from '../src/main/sync/chainVerifier';
import type { Benchmark } from './support/benchmark';
import { benchSize } from './support/benchScale';
import { lengthenChain, uuidOf, writeExportCache } from './support/exportCache';
import type { Figure } from './support/figure';

const records = benchSize(1_000, 4);
const lengths = [benchSize(100_000, 200), benchSize(1_000_000, 400)];

export const benchmark: Benchmark = {
  name: 'export-record',
  figures: ['export.record', 'export.record.verify'],
  async run({ log }) {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-bench-export-record-'));
    try {
      const cache = writeExportCache(dir, records, log);
      const signer = ed25519SignerOf(generateKeyPairSync('ed25519').privateKey);
      const recordId = uuidOf(`staging ${Math.floor(records / 2)}`);
      const sizes: Record<string, number> = {};
      let exportMs = 0;
      let verifyMs = 0;
      let entriesCarried = 0;
      for (const length of lengths) {
        lengthenChain(cache, length, log);
        log(`verifying the chain of ${cache.entries} entries and building its tree (as after a sync)`);
        const verifyStarted = performance.now();
        verifyChainFrom(cache.db);
        advanceAuditTree(cache.db);
        log(`  ${Math.round(performance.now() - verifyStarted)} ms`);
        log(`exporting record ${recordId.slice(0, 8)} from a chain of ${cache.entries} entries`);
        const started = performance.now();
        const result = await buildPacket(cache.db, {
          scope: { selector: { kind: 'staging', stagingIds: [recordId] }, from: null, to: null },
          allowBrokenChain: false,
          generatedBy: { userId: cache.userId, printedName: 'Bench Inspector', roles: ['inspector'] },
          timeZone: 'Europe/Berlin',
          signer,
          selfCheck: false,
        });
        exportMs = performance.now() - started;
        if (result.content.stagingRecords.length !== 1)
          throw new Error('the packet does not hold the one record');
        const verifyStarted2 = performance.now();
        const report = await verifyPacketAsync(result.zip);
        verifyMs = performance.now() - verifyStarted2;
        if (!report.ok)
          throw new Error(`the record packet did not verify: ${JSON.stringify(report.problems.slice(0, 3))}`);
        sizes[String(cache.entries)] = result.zip.length;
        entriesCarried = report.chain.linksChecked;
        log(
          `  export ${Math.round(exportMs)} ms, verify ${Math.round(verifyMs)} ms, ${result.zip.length} bytes`,
        );
      }
      const figures: Figure[] = [
        {
          bench: 'export.record',
          value: exportMs,
          unit: 'ms',
          target: 2000,
          better: 'lower',
          detail: {
            chain_entries: cache.entries,
            records_in_cache: records,
            entries_carried: entriesCarried,
            packet_bytes_by_chain_length: sizes,
            excludes_self_check: true,
          },
        },
        {
          bench: 'export.record.verify',
          value: verifyMs,
          unit: 'ms',
          target: 500,
          better: 'lower',
          detail: { chain_entries: cache.entries, packet_bytes: sizes[String(cache.entries)] },
        },
      ];
      cache.db.close();
      return figures;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
