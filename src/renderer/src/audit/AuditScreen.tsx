// Provenance and audit (QA, inspector): the audit chain's verification, provenance and signature
// events from the cache (so it works offline), and the inspection-packet export.
import { useEffect, useState } from 'react';
import type { ResponseOf } from '../../../shared/contract';
import { api } from '../api';
import { ExportPanel } from '../ExportPanel';
import { type Runner, useAction } from '../useAction';

export function AuditScreen() {
  const { error, run } = useAction();
  const [chain, setChain] = useState<ResponseOf<'chain.verify'> | null>(null);
  return (
    <section className="panel audit-screen" aria-label="Provenance and audit">
      <h2>Provenance and audit</h2>
      <button
        type="button"
        className="button button-quiet"
        onClick={() => void run(() => api['chain.verify']({ full: true })).then(setChain)}
      >
        Verify audit chain
      </button>
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {chain !== null && (
        <p className={chain.ok ? 'notice' : 'notice notice-error'} role="status">
          {chain.ok
            ? `Audit chain verified through entry ${chain.verifiedThroughSeq}.`
            : `Audit chain broken at entry ${chain.firstBadSeq}: ${chain.problem}`}
        </p>
      )}
      <h3>Provenance</h3>
      <ProvenanceView run={run} />
      <h3>Signatures</h3>
      <SignaturesView run={run} />
      <ExportPanel />
    </section>
  );
}

function ProvenanceView({ run }: { run: Runner }) {
  const [rows, setRows] = useState<ResponseOf<'provenance.list'>['rows']>([]);
  useEffect(() => {
    void run(() => api['provenance.list']({ limit: 100 })).then((next) => next && setRows(next.rows));
  }, [run]);
  return (
    <ul className="sync-list">
      {rows.map((row) => (
        <li key={row.id}>
          {row.occurredAt} · {row.actorKind} {row.actorId} · {row.action} {row.subjectKind} {row.subjectId}
        </li>
      ))}
    </ul>
  );
}

function SignaturesView({ run }: { run: Runner }) {
  const [rows, setRows] = useState<ResponseOf<'signatures.list'>['rows']>([]);
  useEffect(() => {
    void run(() => api['signatures.list']({ limit: 100 })).then((next) => next && setRows(next.rows));
  }, [run]);
  return (
    <ul className="sync-list">
      {rows.map((row) => (
        <li key={row.id}>
          {row.signerName} · {row.intent} · “{row.meaning}” · {row.signedAt} (UTC) ·{' '}
          {new Date(row.signedAt).toLocaleString()} (local)
        </li>
      ))}
    </ul>
  );
}
