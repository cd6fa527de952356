// The analyst's export: CSV and CDISC ODM 1.3.2 with a manifest of SHA-256 hashes, in one ZIP built
// from the cache (offline too), of the rows the filter shows or of every cached entry (the person
// chooses, and the dialog says which). Written to the exports folder like an inspection packet; the
// browser host then offers it as a download, the desktop app as "Save a copy as…".
import { useEffect, useState } from 'react';
import type { AnalysisFilter, ExportProgress, ResponseOf } from '../../../shared/contract';
import { api, subscribe, transport } from '../common/api';
import { messageOf } from '../common/messageOf';

interface DeidentifiedExportProps {
  filter: AnalysisFilter;
  /** Whether a filter narrows the rows shown. */
  filtered: boolean;
  shownCount: number;
}

export function DeidentifiedExport({ filter, filtered, shownCount }: DeidentifiedExportProps) {
  const [rows, setRows] = useState<'filtered' | 'all'>('filtered');
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<ExportProgress | null>(null);
  const [result, setResult] = useState<ResponseOf<'analysis.export'> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [savedTo, setSavedTo] = useState<string | null>(null);

  useEffect(() => subscribe('export.progress', setProgress), []);

  const exportEntries = async () => {
    setBusy(true);
    setError(null);
    setResult(null);
    setSavedTo(null);
    try {
      setResult(await api['analysis.export']({ filter, rows: filtered ? rows : 'all' }));
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };
  const saveAs = async (fileName: string) => {
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
    <section className="analysis-export" aria-labelledby="analysis-export-heading">
      <h3 id="analysis-export-heading">Export for analysis</h3>
      <p className="muted">
        CSV and CDISC ODM 1.3.2 (one SubjectData per subject code) with a manifest of each file&apos;s
        SHA-256, in one ZIP. It holds only what this screen shows: no names, emails, free text or calendar
        dates.
      </p>
      {filtered ? (
        <fieldset className="analysis-export-rows">
          <legend>Rows to export</legend>
          <label>
            <input
              type="radio"
              name="analysis-export-rows"
              checked={rows === 'filtered'}
              onChange={() => setRows('filtered')}
            />{' '}
            The {shownCount.toLocaleString()} entries the filter shows
          </label>
          <label>
            <input
              type="radio"
              name="analysis-export-rows"
              checked={rows === 'all'}
              onChange={() => setRows('all')}
            />{' '}
            Every entry in the cache
          </label>
        </fieldset>
      ) : (
        <p>Rows to export: every entry in the cache (no filter is set).</p>
      )}
      <button
        type="button"
        className="button button-primary"
        disabled={busy}
        onClick={() => void exportEntries()}
      >
        Export
      </button>
      {busy && progress && (
        <div>
          <progress max={1} value={fraction} aria-label="Export progress" /> {progress.stage}
        </div>
      )}
      {error && <p role="alert">{error}</p>}
      {result && (
        <div className="export-result" aria-live="polite">
          <p>
            Exported {result.entries.toLocaleString()} entries of {result.subjects.toLocaleString()} subjects
            ({result.rows === 'all' ? 'every cached entry' : 'the filtered entries'}) to{' '}
            <code>{result.path}</code> ({result.bytes.toLocaleString()} bytes).
          </p>
          <p className="muted">ZIP SHA-256 {result.zipSha256}</p>
          <ul className="analysis-export-files">
            {result.files.map((file) => (
              <li key={file.path}>
                <code>{file.path}</code> SHA-256 {file.sha256}
              </li>
            ))}
          </ul>
          {transport === 'browser' ? (
            <a
              className="button"
              href={`/downloads/${encodeURIComponent(result.fileName)}`}
              download={result.fileName}
            >
              Download {result.fileName}
            </a>
          ) : (
            <button type="button" className="button" onClick={() => void saveAs(result.fileName)}>
              Save a copy as…
            </button>
          )}
          {savedTo && <p role="status">Saved a copy to {savedTo}.</p>}
        </div>
      )}
    </section>
  );
}
