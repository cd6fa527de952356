// export.lag: how responsive the workstation's main thread stays while it exports a packet of
// 10,000 staging records (bench/support/exportCache.ts) through the worker thread, as the
// 'export.packet' request does (exportPacketToDataDir): the p99 of the main thread's event-loop
// delay (perf_hooks monitorEventLoopDelay, 10 ms resolution) from the request to the written file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { exportPacketToDataDir } from '../src/main/export/exportService';
import { PacketJobs } from '../src/main/export/packetWorker';
import type { Benchmark } from './support/benchmark';
import { benchSize } from './support/benchScale';
import { writeExportCache } from './support/exportCache';

const records = benchSize(10_000, 4);

export const benchmark: Benchmark = {
  name: 'export-lag',
  figures: ['export.lag'],
  async run({ log }) {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-bench-export-lag-'));
    try {
      const cache = writeExportCache(dir, records, log);
      const jobs = new PacketJobs();
      const request = {
        scope: { kind: 'study' as const, studyCode: 'BENCH-001' },
        from: null,
        to: null,
        allowBrokenChain: false,
      };
      const identity = {
        userId: cache.userId,
        email: 'inspector@bench.invalid',
        printedName: 'Bench Inspector',
        roles: ['inspector' as const],
      };
      const exportOnce = (dataDir: string) => {
        let workerStartMs = 0;
        return exportPacketToDataDir(cache, {
          dataDir,
          request,
          identity,
          jobs,
          log: (line) => {
            workerStartMs = Number(/worker started in (\d+) ms/.exec(line)?.[1] ?? 0);
          },
          onProgress: () => undefined,
        }).then((result) => ({ result, workerStartMs }));
      };
      // A first export brings the cache's audit tree to its verified head, as a sync does.
      log('a first export (the audit tree catches up)');
      await exportOnce(join(dir, 'warm'));

      log(`exporting ${records} records through the worker, sampling the main thread`);
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      const started = performance.now();
      const { result, workerStartMs } = await exportOnce(join(dir, 'data'));
      const exportMs = performance.now() - started;
      delay.disable();
      cache.db.close();
      if (result.counts.stagingRecords !== records) {
        throw new Error(`the packet holds ${result.counts.stagingRecords} records, not ${records}`);
      }
      return [
        {
          bench: 'export.lag',
          value: delay.percentile(99) / 1e6,
          unit: 'ms',
          target: 100,
          better: 'lower',
          detail: {
            records,
            export_s: Math.round(exportMs) / 1000,
            worker_start_ms: workerStartMs,
            max_delay_ms: Math.round(delay.max / 1e6),
            packet_mb: Math.round(result.bytes / 1e5) / 10,
          },
        },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
