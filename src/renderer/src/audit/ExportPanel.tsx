// Inspection packet (issue 6): choose a scope, export from the cache (offline too) with a progress
// bar fed by the pushed 'export.progress' event, see where the packet was written and its hashes,
// and verify it. The packet is written to the data folder's exports/ directory in both hosts; the
// browser host then offers it as a download, the desktop app as "Save a copy as…" (a save dialog).
// Export and verify run in a worker thread in main (issue 24), so either can be cancelled: the
// Cancel button takes the focus while a job runs, and a cancelled export leaves no file.
import { useEffect, useRef, useState } from 'react';
import type { ExportProgress, PacketVerification, ResponseOf } from '../../../shared/contract';
import { api, subscribe, transport } from '../common/api';
import { messageOf } from '../common/messageOf';

type ScopeKind = 'study' | 'patient' | 'staging';

const scopeValueLabel: Record<ScopeKind, string> = {
  study: 'Study code',
  patient: 'Patient id',
  staging: 'Staging record ids',
};
const scopeValuePlaceholder: Record<ScopeKind, string> = {
  study: 'e.g. AUR-HHT-201',
  patient: 'the patient’s id (a UUID)',
  staging: 'ids, separated by commas or spaces',
};

export function ExportPanel() {
  const [kind, setKind] = useState<ScopeKind>('study');
  const [value, setValue] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [allowBroken, setAllowBroken] = useState(false);
  const [progress, setProgress] = useState<ExportProgress | null>(null);
  /** The job running in main's worker, if any. */
  const [job, setJob] = useState<'export' | 'verify' | null>(null);
  const busy = job !== null;
  const cancelRequested = useRef(false);
  const cancelButton = useRef<HTMLButtonElement>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [result, setResult] = useState<ResponseOf<'export.packet'> | null>(null);
  const [check, setCheck] = useState<PacketVerification | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [savedTo, setSavedTo] = useState<string | null>(null);

  useEffect(() => subscribe('export.progress', setProgress), []);
  // The button that started the job is disabled now: the keyboard goes on from Cancel.
  useEffect(() => {
    if (job) cancelButton.current?.focus();
  }, [job]);

  /** Runs one job; a cancel the person asked for is a notice, not an error. */
  const runJob = async (kind: 'export' | 'verify', work: () => Promise<void>, cancelled: string) => {
    cancelRequested.current = false;
    setProgress(null);
    setJob(kind);
    setError(null);
    setNotice(null);
    try {
      await work();
    } catch (caught) {
      if (cancelRequested.current) setNotice(cancelled);
      else setError(messageOf(caught));
    } finally {
      setJob(null);
    }
  };
  const cancel = async () => {
    cancelRequested.current = true;
    try {
      await api['export.cancel']({});
    } catch (caught) {
      setError(messageOf(caught));
    }
  };

  const scope = () =>
    kind === 'study'
      ? { kind, studyCode: value.trim() }
      : kind === 'patient'
        ? { kind, patientId: value.trim() }
        : { kind, stagingIds: value.split(/[\s,]+/).filter(Boolean) };

  const exportPacket = async () => {
    setResult(null);
    setCheck(null);
    setSavedTo(null);
    await runJob(
      'export',
      async () =>
        setResult(
          await api['export.packet']({
            scope: scope(),
            from: from || null,
            to: to || null,
            allowBrokenChain: allowBroken,
          }),
        ),
      'Export cancelled; nothing was written.',
    );
  };

  const fileName = result?.path.split(/[\\/]/).at(-1) ?? '';
  const verify = async () => {
    if (!result) return;
    setCheck(null);
    await runJob(
      'verify',
      async () => setCheck(await api['export.verify']({ fileName })),
      'Verification cancelled.',
    );
  };
  const saveAs = async () => {
    setError(null);
    try {
      setSavedTo((await api['export.saveAs']({ fileName })).savedTo);
    } catch (caught) {
      setError(messageOf(caught));
    }
  };

  const fraction =
    progress === null
      ? 0
      : progress.stage === 'done'
        ? 1
        : progress.total > 0
          ? progress.done / progress.total
          : 0;
  return (
    <section className="panel export-panel" aria-label="Inspection packet">
      <h3>Inspection packet</h3>
      <div className="export-form">
        <label className="export-field">
          <span>Scope</span>
          <select value={kind} onChange={(event) => setKind(event.target.value as ScopeKind)}>
            <option value="study">Study (code)</option>
            <option value="patient">Diary patient (id)</option>
            <option value="staging">Staging records (ids)</option>
          </select>
        </label>
        <label className="export-field">
          <span>{scopeValueLabel[kind]}</span>
          <input
            value={value}
            placeholder={scopeValuePlaceholder[kind]}
            onChange={(event) => setValue(event.target.value)}
          />
        </label>
        <label className="export-field">
          <span>Events from (optional)</span>
          <input type="date" value={from} onChange={(event) => setFrom(event.target.value)} />
        </label>
        <label className="export-field">
          <span>Events to (optional)</span>
          <input type="date" value={to} onChange={(event) => setTo(event.target.value)} />
        </label>
        <label>
          <input
            type="checkbox"
            checked={allowBroken}
            onChange={(event) => setAllowBroken(event.target.checked)}
          />{' '}
          export even if the audit chain is broken (flagged on every page)
        </label>
        <button
          type="button"
          className="button button-primary"
          disabled={busy || !value.trim()}
          onClick={() => void exportPacket()}
        >
          Export packet
        </button>
      </div>
      {busy && (
        <div className="export-progress">
          <progress
            max={1}
            value={fraction}
            aria-label={job === 'verify' ? 'Verification progress' : 'Export progress'}
          />{' '}
          <span aria-live="polite">
            {progress ? progress.stage : 'starting'}
            {progress && progress.total > 1 ? ` ${progress.done} of ${progress.total}` : ''}
          </span>{' '}
          <button
            ref={cancelButton}
            type="button"
            className="button button-quiet"
            onClick={() => void cancel()}
          >
            {job === 'verify' ? 'Cancel verification' : 'Cancel export'}
          </button>
        </div>
      )}
      {notice && <p role="status">{notice}</p>}
      {error && <p role="alert">{error}</p>}
      {result && (
        <div className="export-result">
          <p>
            Written to <code>{result.path}</code> ({result.bytes} bytes): {result.counts.stagingRecords}{' '}
            staging records, {result.counts.signatures} signatures, {result.counts.diaryRecords} diary
            records.
          </p>
          <p className="muted">
            Packet SHA-256 {result.packetSha256} · document hash {result.documentHash} · chain head seq{' '}
            {result.chainHead.seq} {result.chainHead.hash}
            {result.chainBroken ? ' · CHAIN BREAK FLAGGED' : ''}
          </p>
          {transport === 'browser' ? (
            <a className="button" href={`/downloads/${encodeURIComponent(fileName)}`} download={fileName}>
              Download {fileName}
            </a>
          ) : (
            <button type="button" className="button" onClick={() => void saveAs()}>
              Save a copy as…
            </button>
          )}{' '}
          <button type="button" className="button button-quiet" disabled={busy} onClick={() => void verify()}>
            Verify packet
          </button>
          {savedTo && <p role="status">Saved a copy to {savedTo}.</p>}
        </div>
      )}
      {check && (
        <div aria-live="polite">
          <strong>{check.ok ? 'Verified' : 'Not verified'}</strong>: {check.files.length} files,{' '}
          {check.chainLinksChecked} chain links, {check.signaturesChecked} signatures, {check.pages} pages
          checked.
          <ul>
            {check.problems.map((p) => (
              <li key={`${p.where}:${p.what}`}>
                {p.where}: {p.what}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
