// One patient's diary records, newest first: what was entered (date, time, event), how many
// versions the patient has made, open queries and outbox items waiting, the build of its latest
// entry and whether its history spans builds, each said in words.
import { useMemo } from 'react';
import type { ResponseOf } from '../../../shared/contract';
import { buildName } from '../common/buildText';
import { VirtualList } from '../common/VirtualList';
import { visibleText } from '../common/visibleText';
import { recordSortKey, recordTitle } from './diaryValues';

export type DiaryRecord = ResponseOf<'diary.records'>['rows'][number];

const recordRowHeight = 46;

const sortKey = (record: DiaryRecord) => recordSortKey(record.currentData);

export function RecordList({
  records,
  waitingByRecord,
  selectedEventUuid,
  onSelect,
  patientLabel,
}: {
  records: readonly DiaryRecord[];
  waitingByRecord: ReadonlyMap<string, number>;
  selectedEventUuid: string | null;
  onSelect: (record: DiaryRecord) => void;
  patientLabel: string;
}) {
  const sorted = useMemo(
    () =>
      [...records].sort(
        (a, b) => sortKey(b).localeCompare(sortKey(a)) || a.eventUuid.localeCompare(b.eventUuid),
      ),
    [records],
  );
  return (
    <section className="diary-records" aria-label={`Diary records of ${patientLabel}`}>
      <h2 className="diary-column-title">
        Records <span className="muted">({records.length})</span>
      </h2>
      {records.length === 0 ? (
        <p className="muted">No diary records for this patient in your cache.</p>
      ) : (
        <VirtualList
          items={sorted}
          label="Diary records"
          itemKey={(record) => record.eventUuid}
          rowHeight={() => recordRowHeight}
          selectedKey={selectedEventUuid}
          onSelect={onSelect}
          renderRow={(record) => {
            const open = record.annotations.filter((a) => a.requiresResponse && !a.resolved).length;
            const waiting = waitingByRecord.get(record.eventUuid) ?? 0;
            const build =
              record.build === null
                ? ''
                : ` · build ${buildName(record.build)}${record.build.superseded ? ' (superseded)' : ''}${record.spansBuilds ? ', history spans builds' : ''}`;
            return (
              <span
                className="diary-row"
                title={`${recordTitle(record.currentData)}${record.isDeleted ? ' (deleted by the patient)' : ''}${record.paperSource !== null ? ` · from paper, page ${visibleText(record.paperSource.pageId)}` : ''} · ${waiting > 0 ? `${waiting} in outbox · ` : ''}${open > 0 ? `${open} open · ` : ''}version ${record.version}${record.version > 1 ? ' (changed)' : ''} · ${record.annotations.length} annotations${build}`}
              >
                <span className="diary-row-title">
                  {recordTitle(record.currentData)}
                  {record.isDeleted && <span className="diary-flag"> (deleted by the patient)</span>}
                </span>
                <span className="diary-row-meta">
                  {record.paperSource !== null && (
                    <span className="diary-flag diary-flag-paper">
                      from paper, page {visibleText(record.paperSource.pageId)} ·{' '}
                    </span>
                  )}
                  {waiting > 0 && (
                    <span className="diary-flag diary-flag-waiting">◷ {waiting} in outbox · </span>
                  )}
                  {open > 0 && <span className="diary-flag">? {open} open · </span>}
                  version {record.version}
                  {record.version > 1 && ' (changed)'} · {record.annotations.length} annotations
                  {record.build !== null && <> · {visibleText(record.build.number)}</>}
                  {record.spansBuilds && <span className="diary-flag"> · spans builds</span>}
                </span>
              </span>
            );
          }}
        />
      )}
    </section>
  );
}
