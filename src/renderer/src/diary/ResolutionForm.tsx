// Closing (or reopening) a query asks why, as every EDC does: a reason from the server's fixed list
// (migration 0051) and, for "Other", a text that says what it is. Closing cannot be sent without a
// reason; reopening may carry one. It goes through the outbox like every diary action, offline too.
import { type FormEvent, useId, useState } from 'react';
import { type QueryReasonCode, queryReasonCodes, queryReasonLabels } from '../../../shared/domain';
import { api } from '../common/api';
import type { Runner } from '../common/useAction';

const maxLength = 2000;

export function ResolutionForm({
  annotationId,
  closing,
  run,
  onDone,
  onCancel,
}: {
  annotationId: string;
  /** true: close the query; false: reopen it. */
  closing: boolean;
  run: Runner;
  onDone: () => void;
  onCancel: () => void;
}) {
  const [code, setCode] = useState<QueryReasonCode | ''>('');
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();
  const verb = closing ? 'Close query' : 'Reopen query';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    if (closing && code === '') return setProblem('Choose why the query is closed.');
    if (code === 'other' && text.trim() === '') return setProblem('Say what the other reason is.');
    if (code === '' && text.trim() !== '')
      return setProblem('Choose a reason for the text (Other, if none fits).');
    setProblem(null);
    setBusy(true);
    const item = await run(() =>
      api['diary.resolve']({
        annotationId,
        resolved: closing,
        reasonCode: code === '' ? null : code,
        reasonText: text.trim() === '' ? null : text.trim(),
      }),
    );
    setBusy(false);
    if (item) onDone();
  };

  return (
    <form
      className="diary-composer is-reply diary-resolution-form"
      aria-label={closing ? 'Close the query' : 'Reopen the query'}
      noValidate
      onSubmit={(event) => void submit(event)}
      onKeyDown={(event) => {
        if (event.key === 'Escape') onCancel();
      }}
    >
      <div className="diary-composer-row">
        <label htmlFor={`${id}-reason`}>{closing ? 'Reason (required)' : 'Reason (optional)'}</label>
        <select
          id={`${id}-reason`}
          value={code}
          required={closing}
          aria-invalid={problem !== null && code === '' ? true : undefined}
          onChange={(event) => setCode(event.target.value as QueryReasonCode | '')}
        >
          <option value="">{closing ? 'Choose a reason…' : 'No reason given'}</option>
          {queryReasonCodes.map((reason) => (
            <option key={reason} value={reason}>
              {queryReasonLabels[reason]}
            </option>
          ))}
        </select>
      </div>
      <label htmlFor={`${id}-text`}>
        {code === 'other' ? 'What is the reason? (required)' : 'Details (optional)'}
      </label>
      <textarea
        id={`${id}-text`}
        value={text}
        rows={2}
        maxLength={maxLength}
        required={code === 'other'}
        onChange={(event) => setText(event.target.value)}
      />
      {problem !== null && (
        <p className="notice notice-error" role="alert">
          {problem}
        </p>
      )}
      <div className="diary-composer-actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {verb}
        </button>
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
