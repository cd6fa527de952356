// "Transcribe paper entry" for the selected patient, offered to investigators: reads the diary form
// of the patient's study's current build from the cache and opens the transcription dialog.
import { useEffect, useState } from 'react';
import type { BuildFormDefinition } from '../../../shared/contract';
import { api } from '../common/api';
import type { Runner } from '../common/useAction';
import { TranscriptionDialog } from './TranscriptionDialog';

export function TranscribeButton({
  patientId,
  patientLabel,
  transcribedRecord,
  online,
  run,
  onSaved,
}: {
  patientId: string | null;
  patientLabel: string;
  /** The selected record, if it was transcribed from paper: it can be amended from paper too. */
  transcribedRecord: { eventUuid: string; data: Record<string, unknown> } | null;
  online: boolean;
  run: Runner;
  onSaved: () => void;
}) {
  const [investigator, setInvestigator] = useState(false);
  const [form, setForm] = useState<BuildFormDefinition | null>(null);
  const [open, setOpen] = useState<'new' | 'amend' | null>(null);

  useEffect(() => {
    let live = true;
    void api['backend.status']({}).then(
      (status) => live && setInvestigator(status.session?.roles.includes('investigator') ?? false),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, []);

  if (!investigator || patientId === null) return null;
  const start = async (kind: 'new' | 'amend') => {
    const found = await run(() => api['diary.transcriptionForm']({ patientId }));
    if (!found) return;
    if (found.form === null) {
      await run(() =>
        Promise.reject(new Error("The study's diary form is not in your cache yet: sync, then transcribe.")),
      );
      return;
    }
    setForm(found.form);
    setOpen(kind);
  };
  return (
    <>
      <button type="button" className="button" onClick={() => void start('new')}>
        Transcribe paper entry
      </button>
      {transcribedRecord !== null && (
        <button type="button" className="button" onClick={() => void start('amend')}>
          Amend transcription from paper
        </button>
      )}
      {open !== null && form !== null && (
        <TranscriptionDialog
          patientId={patientId}
          patientLabel={patientLabel}
          form={form}
          amending={open === 'amend' ? transcribedRecord : null}
          online={online}
          onClose={(saved) => {
            setOpen(null);
            if (saved) onSaved();
          }}
        />
      )}
    </>
  );
}
