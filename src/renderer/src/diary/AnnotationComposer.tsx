// Adds an annotation to a diary record: a note, a query (asks the patient to respond) or a
// correction (an annotation too: the patient's data is never changed), or a reply to one. It goes
// to the outbox with the entry the investigator read, so it works offline and is sent once.
import { type FormEvent, useId, useState } from 'react';
import { api } from '../common/api';
import type { Runner } from '../common/useAction';

const kinds = [
  { kind: 'note', label: 'Note' },
  { kind: 'query', label: 'Query to the patient' },
  { kind: 'correction', label: 'Correction (as an annotation)' },
] as const;
type Kind = (typeof kinds)[number]['kind'];
const maxLength = 20_000;

export function AnnotationComposer({
  eventUuid,
  parentAuditId,
  entryNumber,
  replyTo,
  run,
  onAdded,
  onCancel,
}: {
  eventUuid: string;
  /** The entry the investigator read (the record's current entry). */
  parentAuditId: number;
  entryNumber: number;
  /** Answering an annotation: its id and how to name it. */
  replyTo?: { annotationId: string; label: string };
  run: Runner;
  onAdded: () => void;
  onCancel?: () => void;
}) {
  const [kind, setKind] = useState<Kind>('note');
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const id = useId();
  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    if (text.trim() === '' || busy) return;
    setBusy(true);
    const effectiveKind: Kind = replyTo ? 'note' : kind;
    const item = await run(() =>
      api['diary.annotate']({
        eventUuid,
        parentAuditId,
        kind: effectiveKind,
        text: text.trim(),
        requiresResponse: effectiveKind === 'query',
        inReplyTo: replyTo?.annotationId ?? null,
      }),
    );
    setBusy(false);
    if (item) {
      setText('');
      onAdded();
    }
  };
  const verb = replyTo
    ? 'Add reply'
    : `Add ${kind === 'query' ? 'query' : kind === 'correction' ? 'correction' : 'note'}`;
  return (
    <form
      className={replyTo ? 'diary-composer is-reply' : 'diary-composer'}
      onSubmit={(event) => void submit(event)}
      aria-label={replyTo ? undefined : 'New annotation'}
    >
      {!replyTo && (
        <div className="diary-composer-row">
          <label htmlFor={`${id}-kind`}>Kind</label>
          <select id={`${id}-kind`} value={kind} onChange={(event) => setKind(event.target.value as Kind)}>
            {kinds.map((option) => (
              <option key={option.kind} value={option.kind}>
                {option.label}
              </option>
            ))}
          </select>
        </div>
      )}
      <label htmlFor={`${id}-text`}>{replyTo ? `Reply to ${replyTo.label}` : 'Annotation text'}</label>
      <textarea
        id={`${id}-text`}
        value={text}
        rows={3}
        maxLength={maxLength}
        required
        onChange={(event) => setText(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) void submit();
          if (event.key === 'Escape' && onCancel) onCancel();
        }}
        aria-describedby={`${id}-hint`}
      />
      <p id={`${id}-hint`} className="diary-hint muted">
        Made on entry {entryNumber} (the current one). Kept in the outbox and sent in order, also when
        offline; the patient&apos;s data is never changed. Ctrl+Enter adds it.
      </p>
      <div className="diary-composer-actions">
        <button type="submit" className="button button-primary" disabled={busy || text.trim() === ''}>
          {verb}
        </button>
        {onCancel && (
          <button type="button" className="button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
