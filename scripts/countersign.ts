// The command line of the inspection packet (issue 6):
//   npx countersign export --data-dir DIR --email E --scope study:CODE [--from D] [--to D]
//                          [--allow-broken-chain] --out packet.zip
//   npx countersign verify packet.zip [--json] [--links] [--render]
//   npx countersign verify --record ID packet.zip [--json]   (one record with its own proofs, format 3)
//   npx countersign verify OLD.zip NEW.zip [--json]          (NEW's history extends OLD's, format 3)
//   npx countersign evidence record|sign ... (issue 8: scripts/evidenceCommand.ts)
//   npx countersign sign-in-guard < server.log (issue 17: scripts/signInGuardCommand.ts)
// `export` opens the person's cache offline, exactly as the workstation's offline sign-in does (the
// password checked against the local verifier, the key from the data folder's key files; a cache
// whose key is sealed by the OS keychain can only be exported from the app). The password comes
// from COUNTERSIGN_PASSWORD or is asked for on the terminal, and is never printed or logged.
// `verify` needs only the packet: no data folder, no network.
import { readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { SessionIdentity } from '../src/main/backend/postgres/postgresSession';
import { FileCacheKeyStore } from '../src/main/cache/cacheKeyStore';
import { cacheDir, cacheFilePath } from '../src/main/cache/cacheLocation';
import { checkOfflineVerifier } from '../src/main/cache/offlineSignIn';
import { openCache } from '../src/main/cache/openCache';
import { cachedCosignatures } from '../src/main/checkpoint/cachedCosignatures';
import { workstationSigner } from '../src/main/checkpoint/workstationKey';
import { defaultDataDir } from '../src/main/dataDir';
import { buildPacket } from '../src/main/export/exportPacket';
import { verifyPacketConsistency } from '../src/main/export/packetConsistency';
import { normaliseBound, parseScopeSelector } from '../src/main/export/packetScope';
import { readPacketFile } from '../src/main/export/storedZip';
import { verifyPacketAsync } from '../src/main/export/verifyPacket';
import { verifyPacketRecord } from '../src/main/export/verifyPacketRecord';
import { checkpointCommand, checkpointUsage, verifyAgainstCheckpointCommand } from './checkpointCommand';
import { evidenceCommand, evidenceUsage } from './evidenceCommand';
import { signInGuardCommand, signInGuardUsage } from './signInGuardCommand';

const usage = `usage:
  countersign export --data-dir DIR --email EMAIL --scope SCOPE --out packet.zip [--from DATE] [--to DATE] [--allow-broken-chain]
      SCOPE: study:CODE | patient:<uuid> | staging:<id>[,<id>...] | all
      password: COUNTERSIGN_PASSWORD, or asked for on the terminal
  countersign verify packet.zip [--json] [--links] [--render]
  countersign verify --record ID packet.zip [--json]
  countersign verify OLD.zip NEW.zip [--json]
${checkpointUsage}
${evidenceUsage}
${signInGuardUsage}`;

function fail(message: string, code = 1): never {
  process.stderr.write(`countersign: ${message}\n`);
  process.exit(code);
}

async function askPassword(): Promise<string> {
  if (process.env.COUNTERSIGN_PASSWORD) return process.env.COUNTERSIGN_PASSWORD;
  if (!process.stdin.isTTY) fail('no password: set COUNTERSIGN_PASSWORD or run in a terminal');
  process.stderr.write('Password: ');
  const rl = createInterface({ input: process.stdin, terminal: true });
  // Do not echo what is typed.
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
  const password = await new Promise<string>((done) => rl.question('', done));
  rl.close();
  process.stderr.write('\n');
  return password;
}

async function exportCommand(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      'data-dir': { type: 'string' },
      email: { type: 'string' },
      scope: { type: 'string' },
      out: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'allow-broken-chain': { type: 'boolean', default: false },
    },
  });
  if (!values.email || !values.scope || !values.out) fail(usage, 2);
  const dataDir = resolve(values['data-dir'] ?? process.env.COUNTERSIGN_DATA_DIR ?? defaultDataDir());
  const selector = parseScopeSelector(values.scope);
  const password = await askPassword();
  // The cache these credentials open, on whichever backend this data folder has synced from.
  let found: { backendId: string; userId: string } | null = null;
  let backends: string[] = [];
  try {
    backends = readdirSync(cacheDir(dataDir)).filter((name) => /^[0-9a-f]{16}$/.test(name));
  } catch {
    fail(`no offline cache in ${dataDir}`);
  }
  for (const backendId of backends) {
    const userId = await checkOfflineVerifier(dataDir, backendId, values.email, password);
    if (userId) {
      found = { backendId, userId };
      break;
    }
  }
  if (!found)
    fail('these credentials open no cache in this data folder (sign in online in the app once first)');
  const keyStore = new FileCacheKeyStore(join(cacheDir(dataDir), 'keys'));
  let key: Buffer;
  try {
    key = keyStore.keyFor(found.userId, found.backendId);
  } catch (error) {
    fail(`the cache key cannot be read: ${(error as Error).message}`);
  }
  const db = openCache({
    path: cacheFilePath(dataDir, found.backendId, found.userId),
    key,
    userId: found.userId,
    backendId: found.backendId,
  });
  try {
    const stored = db.prepare(`select value from sync_meta where name = 'identity'`).get() as
      | { value: string }
      | undefined;
    if (!stored) fail('the cache has never been synced');
    const identity = JSON.parse(stored.value) as SessionIdentity;
    const result = await buildPacket(db, {
      scope: { selector, from: normaliseBound(values.from, false), to: normaliseBound(values.to, true) },
      allowBrokenChain: values['allow-broken-chain'] === true,
      generatedBy: { userId: identity.userId, printedName: identity.printedName, roles: identity.roles },
      // The workstation key cosigns the packet's checkpoint; the cache's cosignatures travel with it.
      signer: workstationSigner(keyStore, found.userId, found.backendId),
      knownCosignatures: cachedCosignatures(db),
      onProgress: (p) => process.stderr.write(`  ${p.stage}${p.total > 1 ? ` ${p.done}/${p.total}` : ''}\n`),
    });
    writeFileSync(values.out, result.zip, { mode: 0o600 });
    const chain = result.content.cover.chain;
    const counts = result.content.cover.counts;
    process.stdout.write(
      `${[
        `wrote ${values.out} (${result.zip.length} bytes, SHA-256 ${result.packetSha256})`,
        `scope: ${result.content.cover.scope.description}`,
        `records: ${counts.stagingRecords} staging (${counts.signatures} signatures), ${counts.diaryRecords} diary (${counts.annotations} annotations); ${counts.builds ?? 0} protocol builds`,
        `document hash: ${result.documentHash}`,
        `audit chain head: seq ${chain.headSeq} ${chain.headHash}${chain.broken ? ` (BROKEN at seq ${chain.broken.firstBadSeq}, flagged on every page)` : ''}`,
      ].join('\n')}\n`,
    );
  } catch (error) {
    fail((error as Error).message);
  } finally {
    db.close();
  }
}

async function verifyCommand(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      links: { type: 'boolean', default: false },
      render: { type: 'boolean', default: false },
      record: { type: 'string' },
    },
  });
  const path = positionals[0];
  if (!path || positionals.length > 2) fail(usage, 2);
  const read = (file: string): Buffer => {
    try {
      return readPacketFile(file);
    } catch {
      fail(`cannot read ${file}`);
    }
  };
  const bytes = read(path);
  if (values.record !== undefined || positionals.length === 2) {
    const result =
      values.record !== undefined
        ? verifyPacketRecord(bytes, values.record)
        : verifyPacketConsistency(bytes, read(positionals[1] as string));
    if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const out: string[] = [];
      if ('recordId' in result) {
        out.push(`packet ${path}: ${result.kind ?? 'no'} record ${result.recordId}`);
        const cp = result.proofs?.checkpoint;
        if (cp)
          out.push(`  checkpoint ${cp.treeSize} entries, root ${cp.rootHash}, subject map ${cp.subjectRoot}`);
        for (const c of result.proofs?.cosignatures ?? [])
          out.push(
            `  cosignature ${c.ok ? 'ok ' : 'BAD'} key ${c.keyFingerprint} ${c.printedName ?? c.userId} at ${c.cosignedAt}`,
          );
        out.push(
          `  ${result.entries} audit entries proven in the checkpoint; its history complete: ${result.proofs?.recordsComplete === 1 ? 'yes' : 'no'}`,
        );
      } else {
        out.push(
          `OLD ${path}: ${result.old ? `${result.old.treeSize} entries, root ${result.old.rootHash}` : '-'}`,
        );
        out.push(
          `NEW ${positionals[1]}: ${result.new ? `${result.new.treeSize} entries, root ${result.new.rootHash}` : '-'}`,
        );
      }
      for (const p of result.problems) out.push(`  FAIL ${p.where}: ${p.what}`);
      out.push(
        result.ok
          ? 'recordId' in result
            ? 'VERIFIED: the record, its every audit entry and its proofs check.'
            : "CONSISTENT: NEW's audit log extends OLD's."
          : 'NOT VERIFIED.',
      );
      process.stdout.write(`${out.join('\n')}\n`);
    }
    process.exit(result.ok ? 0 : 1);
  }
  const report = await verifyPacketAsync(bytes, { render: values.render });
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify(values.links ? report : { ...report, chain: { ...report.chain, links: undefined } }, null, 2)}\n`,
    );
  } else {
    const out: string[] = [`packet ${path} SHA-256 ${report.packetSha256}`];
    for (const file of report.files)
      out.push(`  file ${file.ok ? 'ok ' : 'BAD'} ${file.sha256} ${file.path} (${file.bytes} bytes)`);
    out.push(`  document hash (packet.json) ${report.documentHash ?? '-'}`);
    if (report.proofs) {
      const cp = report.proofs.checkpoint;
      out.push(
        `  checkpoint: ${cp?.treeSize ?? '-'} entries, root ${cp?.rootHash ?? '-'}, subject map ${cp?.subjectRoot ?? '-'}; manifest signed by key ${report.proofs.exporterKey ?? '-'}`,
      );
      for (const c of report.proofs.cosignatures)
        out.push(
          `  cosignature ${c.ok ? 'ok ' : 'BAD'} key ${c.keyFingerprint} ${c.printedName ?? c.userId} at ${c.cosignedAt}`,
        );
      out.push(
        `  audit chain: ${report.chain.linksChecked} entries proven in the checkpoint (head seq ${report.chain.headSeq ?? '-'} ${report.chain.headHash ?? ''}); ${report.proofs.recordsComplete} records and builds complete against the subject map; ${report.proofs.consistency.length} consistency proofs from earlier checkpoints`,
      );
      if (!report.rendered)
        out.push('  renderings: bound by the signed manifest (--render re-renders and compares them)');
    } else
      out.push(
        `  audit chain: ${report.chain.linksChecked} links recomputed from genesis to head seq ${report.chain.headSeq ?? '-'} ${report.chain.headHash ?? ''}`,
      );
    if (values.links) for (const [seq, hash] of report.chain.links) out.push(`    link ${seq} ${hash}`);
    for (const s of report.signatures) {
      out.push(
        `  signature ${s.ok ? 'ok ' : 'BAD'} ${s.id} content hash ${s.contentHash} at chain seq ${s.chainSeq ?? '-'}${s.recomputed ? ' (recomputed from the signed content)' : ' (bound by the chain)'}`,
      );
    }
    for (const b of report.builds) {
      out.push(
        `  build ${b.ok ? 'ok ' : 'BAD'} ${b.name} of ${b.studyCode} ${b.status} ${b.id} at chain seq ${b.chainSeqs.join(', ') || '-'}`,
      );
    }
    out.push(
      `  records: ${report.records.staging} staging, ${report.records.diary} diary; ${report.records.eventsMatched} events matched to the chain; ${report.records.buildsChecked} values' protocol builds matched to the chain; ${report.pages.count} PDF pages checked`,
    );
    if (report.declaredChainBreak) {
      out.push(
        `  the packet declares the audit chain broken at seq ${report.declaredChainBreak.firstBadSeq}: ${report.declaredChainBreak.problem}`,
      );
    }
    for (const p of report.problems) out.push(`  FAIL ${p.where}: ${p.what}`);
    out.push(
      report.ok
        ? 'VERIFIED: every file, chain link and signature checks; compare the chain head with the server.'
        : report.problems.length === 0 && report.declaredChainBreak
          ? 'INTACT, BUT THE AUDIT CHAIN IS BROKEN (as the packet declares).'
          : 'NOT VERIFIED.',
    );
    process.stdout.write(`${out.join('\n')}\n`);
  }
  process.exit(report.ok ? 0 : report.problems.length === 0 && report.declaredChainBreak ? 3 : 1);
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'export') await exportCommand(rest);
else if (command === 'checkpoint')
  process.stdout.write(
    `${await checkpointCommand(rest, askPassword).catch((error: Error) => fail(error.message))}\n`,
  );
else if (
  command === 'verify' &&
  rest.some((arg) => arg === '--checkpoint' || arg.startsWith('--checkpoint='))
) {
  const { ok, report } = await verifyAgainstCheckpointCommand(rest).catch((error: Error) =>
    fail(error.message),
  );
  process.stdout.write(`${report}\n`);
  process.exit(ok ? 0 : 1);
} else if (command === 'verify') await verifyCommand(rest);
else if (command === 'evidence') await evidenceCommand(rest).catch((error: Error) => fail(error.message));
else if (command === 'sign-in-guard') await signInGuardCommand().catch((error: Error) => fail(error.message));
else fail(usage, 2);
