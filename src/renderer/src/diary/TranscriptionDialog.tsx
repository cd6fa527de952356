// An investigator's transcription of a paper diary entry for the selected patient (seed 003:
// investigators "can transcribe paper diaries"): the fields of the diary form of the patient's
// study's current build (choice → list, integer → number, date and time inputs, text → text area),
// the paper page's id, the date written on the paper and a required reason. Checked here against
// the form, every problem named by its field; saved to the outbox, offline too, and sent once when
// online, where the server checks it all again.
import { type FormEvent, useEffect, useMemo, useRef, useState } from 'react';
import type { BuildFieldDefinition, BuildFormDefinition } from '../../../shared/contract';
import { diaryFormProblems, isCalendarDate } from '../../../shared/diaryFormValidation';
import { api } from '../common/api';
import { messageOf } from '../common/messageOf';
import { visibleText } from '../common/visibleText';

type Values = Record<string, unknown>;

/** The typed text as the value the form's type stores; undefined: left out. */
function typedValue(text: string, type: string): unknown {
  if (text.trim() === '') return undefined;
  if (type === 'integer' || type === 'decimal') {
    const number = Number(text);
    return Number.isFinite(number) ? number : text;
  }
  if (type === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  return text;
}

const today = () => new Date().toISOString().slice(0, 10);

export function TranscriptionDialog({
  patientId,
  patientLabel,
  form,
  amending,
  online,
  onClose,
}: {
  patientId: string;
  patientLabel: string;
  form: BuildFormDefinition;
  /** A transcribed record to amend from paper (its values prefilled); null: a new entry. */
  amending: { eventUuid: string; data: Values } | null;
  online: boolean;
  onClose: (saved: boolean) => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [texts, setTexts] = useState<Record<string, string>>(() =>
    Object.fromEntries(
      Object.entries(amending?.data ?? {}).map(([code, value]) => [
        code,
        typeof value === 'string' ? value : JSON.stringify(value),
      ]),
    ),
  );
  const [pageId, setPageId] = useState('');
  const [entryDate, setEntryDate] = useState('');
  const [reason, setReason] = useState('');
  /** After a first attempt to save, the problems follow every edit. */
  const [attempted, setAttempted] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const finish = (saved: boolean) => {
    dialog.current?.close();
    onClose(saved);
  };

  const data = useMemo(() => {
    const next: Values = {};
    for (const field of form.fields) {
      const value = typedValue(texts[field.code] ?? '', field.type);
      if (value !== undefined) next[field.code] = value;
    }
    return next;
  }, [form, texts]);

  const check = () => {
    const found = diaryFormProblems(form, data);
    if (pageId.trim() === '') found.push({ field: 'page_id', message: 'The paper page id is required.' });
    if (!isCalendarDate(entryDate)) {
      found.push({ field: 'entry_date', message: 'The date of the paper entry is required.' });
    } else if (entryDate > today()) {
      found.push({ field: 'entry_date', message: 'The date of the paper entry is in the future.' });
    }
    if (reason.trim() === '') found.push({ field: 'reason', message: 'Say why you transcribe this entry.' });
    return found;
  };

  const problems = attempted ? check() : [];

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found = check();
    setAttempted(true);
    if (found.length > 0) {
      const first = found[0]?.field;
      if (first) document.getElementById(`transcribe-${first}`)?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api['diary.transcribe']({
        patientId,
        eventUuid: amending?.eventUuid ?? null,
        data,
        pageId,
        entryDate,
        reason,
      });
      finish(true);
    } catch (caught) {
      setError(messageOf(caught));
      setBusy(false);
    }
  };

  const problemOf = (field: string) => problems.find((problem) => problem.field === field)?.message ?? null;
  const described = (field: string) => (problemOf(field) ? `transcribe-${field}-problem` : undefined);
  const problemText = (field: string) => {
    const message = problemOf(field);
    return message === null ? null : (
      <span id={`transcribe-${field}-problem`} className="field-problem">
        {message}
      </span>
    );
  };

  const input = (field: BuildFieldDefinition) => {
    const common = {
      id: `transcribe-${field.code}`,
      value: texts[field.code] ?? '',
      'aria-invalid': problemOf(field.code) !== null,
      'aria-describedby': described(field.code),
      required: field.required,
    };
    const set = (value: string) => setTexts((current) => ({ ...current, [field.code]: value }));
    if (field.type === 'choice') {
      return (
        <select {...common} onChange={(event) => set(event.target.value)}>
          <option value="">{field.required ? 'choose…' : '(not given)'}</option>
          {(field.values ?? []).map((value) => (
            <option key={value} value={value}>
              {visibleText(value)}
            </option>
          ))}
        </select>
      );
    }
    if (field.type === 'text') {
      return <textarea {...common} rows={3} onChange={(event) => set(event.target.value)} />;
    }
    const type =
      field.type === 'integer' || field.type === 'decimal'
        ? 'number'
        : field.type === 'date'
          ? 'date'
          : field.type === 'time'
            ? 'time'
            : 'text';
    return (
      <input
        {...common}
        type={type}
        step={field.type === 'integer' ? 1 : undefined}
        min={field.min ?? undefined}
        max={field.max ?? undefined}
        onChange={(event) => set(event.target.value)}
      />
    );
  };

  return (
    <dialog
      ref={dialog}
      className="sign-dialog transcription-dialog"
      aria-labelledby="transcription-heading"
      onCancel={(event) => {
        event.preventDefault();
        finish(false);
      }}
    >
      <h2 id="transcription-heading">
        {amending ? 'Amend transcription from paper' : 'Transcribe paper entry'}
      </h2>
      <p>
        For <strong>{visibleText(patientLabel)}</strong>, on the form <em>{visibleText(form.title)}</em>. It
        is saved to the outbox{online ? ' and sent now' : ' and sent when you are back online'}; from then on
        it is the patient&apos;s diary data, marked as transcribed from paper by you.
      </p>
      {problems.length > 0 && (
        <div className="notice notice-error" role="alert">
          <p>Fix these fields:</p>
          <ul>
            {problems.map((problem) => (
              <li key={`${problem.field}-${problem.message}`}>{visibleText(problem.message)}</li>
            ))}
          </ul>
        </div>
      )}
      <form onSubmit={(event) => void submit(event)} noValidate>
        <fieldset className="transcription-fields">
          <legend>Paper source</legend>
          <label htmlFor="transcribe-page_id">Paper page id</label>
          <input
            id="transcribe-page_id"
            value={pageId}
            maxLength={200}
            aria-invalid={problemOf('page_id') !== null}
            aria-describedby={described('page_id')}
            onChange={(event) => setPageId(event.target.value)}
          />
          {problemText('page_id')}
          <label htmlFor="transcribe-entry_date">Date of the paper entry</label>
          <input
            id="transcribe-entry_date"
            type="date"
            value={entryDate}
            max={today()}
            aria-invalid={problemOf('entry_date') !== null}
            aria-describedby={described('entry_date')}
            onChange={(event) => setEntryDate(event.target.value)}
          />
          {problemText('entry_date')}
        </fieldset>
        <fieldset className="transcription-fields">
          <legend>Diary entry as written on the paper</legend>
          {form.fields.map((field) => (
            <div key={field.code} className="transcription-field">
              <label htmlFor={`transcribe-${field.code}`}>
                {visibleText(field.label)}
                {field.required && <span aria-hidden="true"> *</span>}
                {field.required && <span className="visually-hidden"> (required)</span>}
              </label>
              {input(field)}
              {problemText(field.code)}
            </div>
          ))}
        </fieldset>
        <label htmlFor="transcribe-reason">Reason (required)</label>
        <textarea
          id="transcribe-reason"
          rows={2}
          value={reason}
          maxLength={2000}
          aria-invalid={problemOf('reason') !== null}
          aria-describedby={described('reason')}
          onChange={(event) => setReason(event.target.value)}
        />
        {problemText('reason')}
        {error !== null && (
          <p className="notice notice-error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={() => finish(false)} disabled={busy}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={busy}>
            Save to outbox
          </button>
        </div>
      </form>
    </dialog>
  );
}
