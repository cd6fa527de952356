// What one signature covered (cs_private.signing_content), under its manifestation: the content
// hash, the record, study and live row it names, the proposed fields it fixed, the hash of the live
// row it was signed against, and whether the workstation recomputes the same hash from the record.
import type { SignedContentCheck } from '../../../shared/contract';
import { visibleText } from '../common/visibleText';

const verdictWords: Record<SignedContentCheck['verdict'], string> = {
  matches: '✓ Recomputed from the record: the same hash',
  differs: '✗ Recomputed from the record: a different hash',
  unknown: '? Not recomputed',
};

export function SignedContent({ check, contentHash }: { check: SignedContentCheck; contentHash: string }) {
  const fields =
    typeof check.content.proposed_state === 'object' && check.content.proposed_state !== null
      ? Object.keys(check.content.proposed_state).sort()
      : [];
  return (
    <details className="signed-content" open>
      <summary>
        Signed content <code className="hash">{contentHash}</code>
      </summary>
      <dl className="signed-content-fields">
        <dt>Record</dt>
        <dd>
          <code>{check.content.staging_record_id}</code>
        </dd>
        <dt>Study</dt>
        <dd>
          <code>{check.content.study_id}</code>
        </dd>
        <dt>Target</dt>
        <dd>
          {visibleText(check.content.entity_kind)}{' '}
          {check.content.entity_id === null ? '(a new record)' : <code>{check.content.entity_id}</code>}
        </dd>
        <dt>Proposed fields</dt>
        <dd>
          {fields.length} field{fields.length === 1 ? '' : 's'}: {fields.map(visibleText).join(', ')}
        </dd>
        <dt>Live row signed against</dt>
        <dd>
          {check.content.live_row_sha256 === null ? (
            check.content.entity_id === null ? (
              'none (a new record)'
            ) : (
              'not known'
            )
          ) : (
            <>
              SHA-256 <code className="hash">{check.content.live_row_sha256}</code>
            </>
          )}
        </dd>
      </dl>
      <p className={`signed-content-verdict verdict-${check.verdict}`}>
        {verdictWords[check.verdict]} ({visibleText(check.basis)}).
      </p>
    </details>
  );
}
