// Provenance and audit (QA, inspector): the audit chain's verification status, then, for every
// study or one study, one subject or record, the audit_log entries, provenance events and
// signatures (with their manifestation) in virtualised, paged tables; an entry or a record's trail
// opens beside them; the inspection packet's export below. Everything is read from the local
// encrypted cache through the contract, so the screen works the same with the backend gone.
import { type KeyboardEvent, useCallback, useEffect, useRef, useState } from 'react';
import type { AuditEntryRow } from '../../../shared/contract';
import { api } from '../common/api';
import { messageOf } from '../common/messageOf';
import { Timestamp } from '../common/Timestamp';
import { useSyncStatus } from '../common/useSyncStatus';
import { AuditEntryDetail } from './AuditEntryDetail';
import { AuditFilters, type AuditScope, isRecordId } from './AuditFilters';
import { type AuditLogFilter, AuditLogFilters, noAuditLogFilter } from './AuditLogFilters';
import { AuditLogTable } from './AuditLogTable';
import { ChainStatus, type ChainVerification } from './ChainStatus';
import { CheckpointStatus } from './CheckpointStatus';
import { ExportPanel } from './ExportPanel';
import { ProvenanceTable } from './ProvenanceTable';
import { RecordTrail } from './RecordTrail';
import { SignatureTable } from './SignatureTable';

const tabs = [
  { id: 'audit', label: 'Audit log' },
  { id: 'provenance', label: 'Provenance' },
  { id: 'signatures', label: 'Signatures' },
] as const;
type TabId = (typeof tabs)[number]['id'];

type Side = { kind: 'trail'; stagingId: string } | { kind: 'entry'; entry: AuditEntryRow } | null;

function isTyping(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))
  );
}

export function AuditScreen() {
  const sync = useSyncStatus(true);
  const [studies, setStudies] = useState<{ id: string; code: string }[]>([]);
  const [scope, setScope] = useState<AuditScope>({ studyId: null, recordId: null });
  const [logFilter, setLogFilter] = useState<AuditLogFilter>(noAuditLogFilter);
  const [tab, setTab] = useState<TabId>('audit');
  const [side, setSide] = useState<Side>(null);
  const [highlightSeq, setHighlightSeq] = useState<number | null>(null);
  const [chain, setChain] = useState<ChainVerification | null>(null);
  const [chainFull, setChainFull] = useState(false);
  const [verifying, setVerifying] = useState(false);
  const [newestSeq, setNewestSeq] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** Bumped to read every view again: a sync landed, or the chain was verified. */
  const [generation, setGeneration] = useState(0);
  const tabRefs = useRef<Record<TabId, HTMLButtonElement | null>>({
    audit: null,
    provenance: null,
    signatures: null,
  });

  const verify = useCallback(async (full: boolean) => {
    setVerifying(true);
    try {
      const result = await api['chain.verify']({ full });
      setChain(result);
      setChainFull(full);
      setError(null);
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setVerifying(false);
      setGeneration((current) => current + 1);
    }
  }, []);

  // On opening, and whenever a sync lands: what is new is verified (from the verified head: cheap),
  // which also reads the studies and lists again.
  const landed = sync.status !== null && !sync.status.syncing ? sync.status.lastSyncedAt : null;
  const verifiedAfter = useRef<string | null>(null);
  useEffect(() => {
    if (landed === null || landed === verifiedAfter.current) return;
    verifiedAfter.current = landed;
    void verify(false);
  }, [landed, verify]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: generation is the reload trigger
  useEffect(() => {
    let current = true;
    api['studies.list']({})
      .then((next) => current && setStudies(next.studies))
      .catch((caught: unknown) => current && setError(messageOf(caught)));
    return () => {
      current = false;
    };
  }, [generation]);

  const openTrail = useCallback((stagingId: string) => {
    if (isRecordId(stagingId)) setSide({ kind: 'trail', stagingId });
    else setError(`${stagingId.slice(0, 40)} is not a staging record id, so it has no record trail.`);
  }, []);
  const openEntry = useCallback((entry: AuditEntryRow) => setSide({ kind: 'entry', entry }), []);
  const showEntry = useCallback((seq: number) => {
    setTab('audit');
    setHighlightSeq(seq);
    setLogFilter({ eventKind: null, fromSeq: Math.max(1, seq - 5), toSeq: seq + 5 });
  }, []);

  // Esc closes what is open beside the tables (not while typing in a field).
  useEffect(() => {
    if (side === null) return;
    const onKey = (event: globalThis.KeyboardEvent) => {
      if (event.key === 'Escape' && !isTyping(event.target)) setSide(null);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [side]);

  const moveTab = (event: KeyboardEvent, index: number) => {
    const delta = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (delta === 0) return;
    event.preventDefault();
    const next = tabs[(index + delta + tabs.length) % tabs.length] as (typeof tabs)[number];
    setTab(next.id);
    tabRefs.current[next.id]?.focus();
  };

  const status = sync.status;
  const firstBadSeq = chain !== null && !chain.ok ? chain.firstBadSeq : null;
  return (
    <section className="audit-screen" aria-labelledby="audit-heading">
      <div className="audit-heading-row">
        <h2 id="audit-heading">Provenance and audit</h2>
        <p className="muted audit-source">
          Read from this computer's encrypted cache
          {status?.lastSyncedAt ? (
            <>
              , last synced <Timestamp iso={status.lastSyncedAt} />
            </>
          ) : null}
          {status !== null && !status.online ? ' · offline: nothing here needs the server' : ''}
        </p>
      </div>
      {error !== null && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      <ChainStatus
        verification={chain}
        full={chainFull}
        verifying={verifying}
        newestSeq={newestSeq}
        onVerify={(full) => void verify(full)}
        onShowEntry={showEntry}
      />
      <CheckpointStatus checkpoint={status?.checkpoint ?? null} />
      <AuditFilters studies={studies} scope={scope} onScope={setScope} />

      <div className={side === null ? 'audit-layout' : 'audit-layout with-side'}>
        <div className="panel audit-main">
          <div className="audit-tabs-row">
            <div className="audit-tabs" role="tablist" aria-label="Views">
              {tabs.map((item, index) => (
                <button
                  key={item.id}
                  ref={(element) => {
                    tabRefs.current[item.id] = element;
                  }}
                  type="button"
                  role="tab"
                  id={`audit-tab-${item.id}`}
                  aria-selected={tab === item.id}
                  aria-controls={`audit-panel-${item.id}`}
                  tabIndex={tab === item.id ? 0 : -1}
                  className={tab === item.id ? 'audit-tab is-current' : 'audit-tab'}
                  onClick={() => setTab(item.id)}
                  onKeyDown={(event) => moveTab(event, index)}
                >
                  {item.label}
                </button>
              ))}
            </div>
            {scope.recordId !== null && isRecordId(scope.recordId) && (
              <button type="button" className="button" onClick={() => openTrail(scope.recordId as string)}>
                Open the trail of record {scope.recordId.slice(0, 8)}
              </button>
            )}
          </div>
          {tabs.map((item) => (
            <div
              key={item.id}
              role="tabpanel"
              id={`audit-panel-${item.id}`}
              aria-labelledby={`audit-tab-${item.id}`}
              hidden={tab !== item.id}
            >
              {tab === item.id && item.id === 'audit' && (
                <>
                  <AuditLogFilters
                    filter={logFilter}
                    onFilter={(next) => {
                      setHighlightSeq(null);
                      setLogFilter(next);
                    }}
                  />
                  <AuditLogTable
                    scope={scope}
                    filter={logFilter}
                    generation={generation}
                    firstBadSeq={firstBadSeq}
                    openSeq={side?.kind === 'entry' ? side.entry.seq : highlightSeq}
                    onNewestSeq={setNewestSeq}
                    onOpenEntry={openEntry}
                    onOpenTrail={openTrail}
                  />
                </>
              )}
              {tab === item.id && item.id === 'provenance' && (
                <ProvenanceTable scope={scope} generation={generation} onOpenTrail={openTrail} />
              )}
              {tab === item.id && item.id === 'signatures' && (
                <SignatureTable scope={scope} generation={generation} onOpenTrail={openTrail} />
              )}
            </div>
          ))}
        </div>
        {side?.kind === 'trail' && (
          <RecordTrail
            stagingId={side.stagingId}
            generation={generation}
            onClose={() => setSide(null)}
            onShowEntry={showEntry}
          />
        )}
        {side?.kind === 'entry' && (
          <AuditEntryDetail
            entry={side.entry}
            firstBadSeq={firstBadSeq}
            onClose={() => setSide(null)}
            onOpenTrail={openTrail}
          />
        )}
      </div>

      <ExportPanel />
    </section>
  );
}
