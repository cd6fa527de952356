// An administrator's correction of a diary entry (seed 003: "admins can perform data corrections
// (with justification and audit trail)", "all admin actions require additional authentication"):
// the entry's fields by the build's diary form, prefilled with the current values; a live preview
// of what changes, old beside new; the justification; the administrator's own password and
// authenticator code. The server checks all of it and flags the correction for the site's
// investigators. Online only. If the record moved on meanwhile, its current values are shown and
// become the values to correct.
import { type FormEvent, useEffect, useMemo, useRef, useState } from 'react';
import type { BuildFieldDefinition } from '../../../shared/contract';
import { api } from '../common/api';
import { messageOf } from '../common/messageOf';
import { visibleText } from '../common/visibleText';
import { ReauthDialogActions } from '../signing/ReauthDialogActions';
import { ReauthFields } from '../signing/ReauthFields';
import { changeWords, displayValue } from './diaryValues';

type Values = Record<string, unknown>;

export interface CorrectionTarget {
  eventUuid: string;
  lastAuditId: number;
  version: number;
  data: Values;
  /** The patient's subject code (or how the screen names them). */
  patientLabel: string;
  title: string;
}

export interface CorrectionDialogProps {
  target: CorrectionTarget;
  /** The diary form's fields (the build's); empty: the entry's own fields, as text. */
  fields: readonly BuildFieldDefinition[];
  onClose: (corrected: boolean) => void;
}

/** What a field's input holds: text, as typed. */
function inputText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** The typed text as the value the form's type stores; undefined: the field is left out. */
function typedValue(text: string, type: string): unknown {
  if (text.trim() === '') return undefined;
  if (type === 'integer' || type === 'decimal') {
    const number = Number(text);
    return Number.isFinite(number) ? number : text;
  }
  if (type === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  return text;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function CorrectionDialog({ target, fields, onClose }: CorrectionDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const justificationField = useRef<HTMLTextAreaElement>(null);
  const passwordField = useRef<HTMLInputElement>(null);
  const codeField = useRef<HTMLInputElement>(null);
  const [base, setBase] = useState({
    auditId: target.lastAuditId,
    version: target.version,
    data: target.data,
  });
  // The form's fields, then any field the entry holds that the form does not name (kept as text).
  const shownFields = useMemo<BuildFieldDefinition[]>(() => {
    const known = new Set(fields.map((field) => field.code));
    const extra = Object.keys(base.data)
      .filter((code) => !known.has(code))
      .map(
        (code): BuildFieldDefinition => ({
          code,
          label: code,
          type: typeof base.data[code] === 'number' ? 'decimal' : 'text',
          required: false,
          values: null,
          min: null,
          max: null,
          maxLength: null,
        }),
      );
    return [...fields, ...extra];
  }, [fields, base.data]);
  const [texts, setTexts] = useState<Record<string, string>>(() =>
    Object.fromEntries(shownFields.map((field) => [field.code, inputText(target.data[field.code])])),
  );
  const [justification, setJustification] = useState('');
  const [password, setPassword] = useState('');
  const [totpCode, setTotpCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [ownLock, setOwnLock] = useState(false);

  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  const finish = (corrected: boolean) => {
    dialog.current?.close();
    onClose(corrected);
  };

  const corrected = useMemo(() => {
    const next: Values = {};
    for (const field of shownFields) {
      const value = typedValue(texts[field.code] ?? '', field.type);
      if (value !== undefined) next[field.code] = value;
    }
    return next;
  }, [shownFields, texts]);
  const changes = useMemo(
    () =>
      shownFields
        .map((field) => ({ field, before: base.data[field.code], after: corrected[field.code] }))
        .filter(({ before, after }) => !sameValue(before, after)),
    [shownFields, base.data, corrected],
  );

  const missing =
    changes.length === 0
      ? 'Change at least one value.'
      : !justification.trim()
        ? 'Say why the entry is corrected.'
        : !password
          ? 'Enter your password.'
          : !totpCode.trim()
            ? 'Enter the code from your authenticator.'
            : null;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (missing !== null) {
      setError(missing);
      return;
    }
    setBusy(true);
    setError(null);
    let clear = { password: true, code: true };
    let focus: 'justification' | 'password' | 'code' = 'code';
    try {
      const outcome = await api['diary.correct']({
        eventUuid: target.eventUuid,
        parentAuditId: base.auditId,
        data: corrected,
        justification,
        password,
        totpCode: totpCode.trim(),
      });
      if (outcome.ok) {
        finish(true);
        return;
      }
      setError(outcome.error);
      setOwnLock(outcome.locked);
      if (outcome.current !== null) {
        // The record moved on: the current values become the ones shown and corrected against.
        const current = outcome.current;
        setBase(current);
        setTexts(
          Object.fromEntries(
            [...new Set([...shownFields.map((field) => field.code), ...Object.keys(current.data)])].map(
              (code) => [code, inputText(current.data[code])],
            ),
          ),
        );
        clear = { password: false, code: true };
      } else if (outcome.field === 'justification') {
        clear = { password: false, code: false };
        focus = 'justification';
      } else {
        clear = { password: outcome.field !== 'code', code: outcome.field !== 'password' };
        focus = outcome.field === 'password' ? 'password' : 'code';
      }
    } catch (caught) {
      setError(messageOf(caught));
      clear = { password: false, code: true };
    }
    // A code is never kept after an attempt, nor a password after a wrong one.
    if (clear.code) setTotpCode('');
    if (clear.password) setPassword('');
    ({ justification: justificationField, password: passwordField, code: codeField })[focus].current?.focus();
    setBusy(false);
  };

  return (
    <dialog
      ref={dialog}
      className="sign-dialog admin-dialog correction-dialog"
      aria-labelledby="correction-heading"
      onCancel={(event) => {
        event.preventDefault();
        finish(false);
      }}
    >
      <h2 id="correction-heading">Correct diary entry</h2>
      <p>
        <strong>{visibleText(target.title)}</strong> of {visibleText(target.patientLabel)}, version{' '}
        {base.version}. The old and new values, your justification and your re-authentication are recorded in
        the audit trail, and the investigators of the site are asked to review the correction.
      </p>
      <form onSubmit={(event) => void submit(event)}>
        <fieldset className="correction-fields">
          <legend>Values</legend>
          {shownFields.map((field) => (
            <CorrectionField
              key={field.code}
              field={field}
              text={texts[field.code] ?? ''}
              onText={(text) => setTexts((current) => ({ ...current, [field.code]: text }))}
            />
          ))}
        </fieldset>
        <section className="correction-preview" aria-labelledby="correction-preview-title" aria-live="polite">
          <h3 id="correction-preview-title">What changes</h3>
          {changes.length === 0 ? (
            <p className="muted">Nothing yet: change a value above.</p>
          ) : (
            <table className="table diary-changes">
              <thead>
                <tr>
                  <th scope="col">Field</th>
                  <th scope="col">Change</th>
                  <th scope="col">Old value</th>
                  <th scope="col">New value</th>
                </tr>
              </thead>
              <tbody>
                {changes.map(({ field, before, after }) => {
                  const kind = before === undefined ? 'added' : after === undefined ? 'removed' : 'changed';
                  const words = changeWords[kind];
                  return (
                    <tr key={field.code} className={`diary-change diary-change-${kind}`}>
                      <th scope="row">{visibleText(field.label)}</th>
                      <td className="diary-change-word">
                        <span aria-hidden="true">{words.symbol} </span>
                        {words.word}
                      </td>
                      <td className="diary-value diary-value-old">
                        {before === undefined ? (
                          <span className="muted">—</span>
                        ) : (
                          <del>{displayValue(before)}</del>
                        )}
                      </td>
                      <td className="diary-value diary-value-new">
                        {after === undefined ? (
                          <span className="muted">—</span>
                        ) : (
                          <ins>{displayValue(after)}</ins>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </section>
        <div className="field">
          <label htmlFor="correction-justification">
            Justification (required, recorded in the audit trail)
          </label>
          <textarea
            ref={justificationField}
            id="correction-justification"
            value={justification}
            rows={3}
            maxLength={2000}
            onChange={(event) => setJustification(event.target.value)}
            required
          />
        </div>
        <ReauthFields
          idPrefix="correction"
          password={password}
          onPassword={setPassword}
          totpCode={totpCode}
          onTotpCode={setTotpCode}
          passwordRef={passwordField}
          codeRef={codeField}
          onError={setError}
        />
        <ReauthDialogActions
          idPrefix="correction"
          error={error}
          missing={missing}
          busy={busy}
          blocked={ownLock}
          actionLabel="Correct entry"
          busyLabel="Correcting…"
          onCancel={() => finish(false)}
        />
      </form>
    </dialog>
  );
}

/** One field of the form, by its type: a list for choices and yes/no, a number, a date, or text. */
function CorrectionField({
  field,
  text,
  onText,
}: {
  field: BuildFieldDefinition;
  text: string;
  onText: (text: string) => void;
}) {
  const id = `correction-field-${field.code}`;
  const label = (
    <label htmlFor={id}>
      {visibleText(field.label)}
      {field.required ? ' (required)' : ''}
    </label>
  );
  if (field.type === 'choice' || field.type === 'boolean') {
    const options = field.type === 'boolean' ? ['true', 'false'] : (field.values ?? []);
    return (
      <div className="field">
        {label}
        <select id={id} value={text} onChange={(event) => onText(event.target.value)}>
          <option value="">(none)</option>
          {!options.includes(text) && text !== '' && <option value={text}>{visibleText(text)}</option>}
          {options.map((option) => (
            <option key={option} value={option}>
              {field.type === 'boolean' ? (option === 'true' ? 'yes' : 'no') : visibleText(option)}
            </option>
          ))}
        </select>
      </div>
    );
  }
  if (field.type === 'text') {
    // Free text keeps its line breaks (a one-line input would drop them on the first edit).
    return (
      <div className="field">
        {label}
        <textarea
          id={id}
          value={text}
          rows={2}
          maxLength={field.maxLength ?? undefined}
          onChange={(event) => onText(event.target.value)}
        />
      </div>
    );
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
    <div className="field">
      {label}
      <input
        id={id}
        type={type}
        value={text}
        step={field.type === 'decimal' ? 'any' : undefined}
        min={field.min ?? undefined}
        max={field.max ?? undefined}
        maxLength={field.maxLength ?? undefined}
        onChange={(event) => onText(event.target.value)}
      />
    </div>
  );
}
