// The demo's paper transcription and the conflict it ran into (issue 22): Dr. Marchetti
// (investigator101) transcribed a paper diary page of patient HHT-101-001 (page id and the date
// written on the paper kept); the patient then updated that entry on her phone (the duration); and
// Dr. Marchetti's later amendment of the same entry from the paper (the intensity), made against
// the older version, was refused as a conflict that waits for her to resolve (keep mine, keep
// theirs, or a field merge, which both changes allow). Written through public.submit_diary_events
// as each person (auth.uid() from the seeder's claims), as the workstation writes them, under the
// operator's bootstrap. Deterministic: fixed record and request ids, dates counted from `now`.
import type { ClientBase } from 'pg';

export const demoTranscription = {
  eventUuid: '7a2c4e60-91b3-4d5f-8e17-0c3b5a9d2f11',
  pageId: 'HHT-101-001 paper diary p. 14',
  /** Days before the seed's `now` that the paper entry is dated. */
  paperDaysAgo: 9,
  reason: 'Paper diary handed in at the visit: the patient had no phone signal that week.',
  amendmentReason: 'Amended against the paper page: the intensity is marked severe.',
};
const requestIds = {
  transcription: '3b8f1d2e-6c4a-4e9b-a1d7-5f2c8e0b9a01',
  patientUpdate: '3b8f1d2e-6c4a-4e9b-a1d7-5f2c8e0b9a02',
  amendment: '3b8f1d2e-6c4a-4e9b-a1d7-5f2c8e0b9a03',
};

/** The transcription, the patient's update and the conflicting amendment, each as its person. */
export async function seedDemoTranscription(
  db: ClientBase,
  now: Date,
  actAs: (key: string | null) => Promise<void>,
  uid: (key: string) => string,
): Promise<void> {
  const patient = uid('patient1');
  const paperDate = new Date(now.getTime() - demoTranscription.paperDaysAgo * 86_400_000)
    .toISOString()
    .slice(0, 10);
  const entry = {
    event_type: 'epistaxis',
    date: paperDate,
    time: '07:40',
    duration_minutes: 8,
    intensity: 'moderate',
    side: 'left',
  };
  const source = { page_id: demoTranscription.pageId, entry_date: paperDate };
  const submit = async (event: Record<string, unknown>) => {
    const { rows } = await db.query<{ result: { status: string; events?: { audit_id: number }[] } }>(
      'select public.submit_diary_events($1::jsonb) as result',
      [JSON.stringify([{ event_uuid: demoTranscription.eventUuid, patient_id: patient, ...event }])],
    );
    return rows[0]?.result;
  };

  await actAs('investigator101');
  const transcribed = await submit({
    client_request_id: requestIds.transcription,
    operation: 'INVESTIGATOR_TRANSCRIPTION',
    data: entry,
    parent_audit_id: null,
    change_reason: demoTranscription.reason,
    client_timestamp: new Date(now.getTime() - 3 * 86_400_000).toISOString(),
    source_reference: source,
  });
  const transcribedAt = transcribed?.events?.[0]?.audit_id;
  if (transcribed?.status !== 'applied' || transcribedAt === undefined) {
    throw new Error('demo seed: the paper transcription was not written');
  }

  await actAs('patient1');
  const updated = await submit({
    client_request_id: requestIds.patientUpdate,
    operation: 'USER_UPDATE',
    data: { ...entry, duration_minutes: 15 },
    parent_audit_id: transcribedAt,
    change_reason: 'It went on longer than the paper says',
    client_timestamp: new Date(now.getTime() - 2 * 86_400_000).toISOString(),
  });
  if (updated?.status !== 'applied') throw new Error('demo seed: the patient update was not written');

  await actAs('investigator101');
  const amended = await submit({
    client_request_id: requestIds.amendment,
    operation: 'INVESTIGATOR_TRANSCRIPTION',
    data: { ...entry, intensity: 'severe' },
    parent_audit_id: transcribedAt,
    change_reason: demoTranscription.amendmentReason,
    client_timestamp: new Date(now.getTime() - 86_400_000).toISOString(),
    source_reference: source,
  });
  if (amended?.status !== 'conflict') throw new Error('demo seed: the amendment did not conflict');
  await actAs(null);
}
