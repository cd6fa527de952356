// What the screen is about: one study, one subject or record (a staging record, a signature, a
// diary record or patient, a person), or everything the cache holds. The id applies on Enter.
import { useEffect, useState } from 'react';
import { visibleText } from '../common/visibleText';

export interface AuditScope {
  studyId: string | null;
  /** A subject or record id; null for every record. */
  recordId: string | null;
}

interface AuditFiltersProps {
  studies: readonly { id: string; code: string }[];
  scope: AuditScope;
  onScope: (scope: AuditScope) => void;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isRecordId(text: string): boolean {
  return uuidPattern.test(text);
}

export function AuditFilters({ studies, scope, onScope }: AuditFiltersProps) {
  const [draft, setDraft] = useState(scope.recordId ?? '');
  useEffect(() => setDraft(scope.recordId ?? ''), [scope.recordId]);

  return (
    <form
      className="audit-filters"
      aria-label="What to show"
      onSubmit={(event) => {
        event.preventDefault();
        const recordId = draft.trim();
        onScope({ ...scope, recordId: recordId === '' ? null : recordId });
      }}
    >
      <label className="inline-field">
        Study
        <select
          value={scope.studyId ?? ''}
          onChange={(event) => onScope({ ...scope, studyId: event.target.value || null })}
        >
          <option value="">All studies</option>
          {studies.map((study) => (
            <option key={study.id} value={study.id}>
              {visibleText(study.code)}
            </option>
          ))}
        </select>
      </label>
      <label className="inline-field">
        Subject or record id
        <input
          className="audit-record-input"
          value={draft}
          maxLength={200}
          spellCheck={false}
          placeholder="staging record, signature, diary record, patient or person id"
          onChange={(event) => setDraft(event.target.value)}
        />
      </label>
      <button type="submit" className="button">
        Show
      </button>
      <button
        type="button"
        className="button button-quiet"
        disabled={scope.studyId === null && scope.recordId === null && draft === ''}
        onClick={() => {
          setDraft('');
          onScope({ studyId: null, recordId: null });
        }}
      >
        Clear
      </button>
    </form>
  );
}
