// A promoted record's fields through time: the live value before promotion (kept by the server
// since migration 0053), the value proposed and signed, and the live value now, so that a promoted
// record never reads as "0 changes". Values are rendered as text.
import { visibleText } from '../common/visibleText';
import type { FieldHistoryRow } from './proposalContext';

function shown(value: unknown): string {
  if (value === undefined) return '—';
  return visibleText(typeof value === 'string' ? value : JSON.stringify(value, null, 2));
}

export function FieldHistory({
  rows,
  beforeKnown,
  createdRow,
}: {
  rows: FieldHistoryRow[];
  /** The server kept the live row before promotion. */
  beforeKnown: boolean;
  /** The promotion created the live row (nothing before it). */
  createdRow: boolean;
}) {
  return (
    <section className="field-history" aria-labelledby="field-history-heading">
      <h3 id="field-history-heading">Field history</h3>
      {!beforeKnown && (
        <p className="notice notice-warning">
          The live row before promotion was not recorded (this record was promoted before the server kept it):
          only the proposed and current values are known.
        </p>
      )}
      {createdRow && (
        <p className="muted">The promotion created this record: there was no live row before.</p>
      )}
      <div className="table-scroll">
        <table className="table field-history-table">
          <caption className="visually-hidden">
            Each proposed field: live value before promotion, proposed value, live value now
          </caption>
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Live before</th>
              <th scope="col">Proposed (promoted)</th>
              <th scope="col">Live now</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.field}>
                <th scope="row">{visibleText(row.field)}</th>
                <td className="field-history-cell">
                  <pre className="field-value">{beforeKnown ? shown(row.before) : 'not recorded'}</pre>
                </td>
                <td className="field-history-cell">
                  <pre className="field-value">{shown(row.proposed)}</pre>
                </td>
                <td className="field-history-cell">
                  <pre className="field-value">{shown(row.now)}</pre>
                  {row.changedSince && <span className="badge">differs from what was promoted</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
