// How a signature is shown wherever it appears (21 CFR 11.50): printed name, date and time in UTC
// and in local time, and the meaning; a rejection also with its reason and explanation. All of it
// is data from the server, rendered as text.
import { formatLocal, formatUtc, localTitle } from '../common/formatTime';
import { visibleText } from '../common/visibleText';

export interface ManifestationProps {
  printedName: string;
  meaning: string;
  intent: string;
  signedAt: string;
  comment?: string | null;
  /** A rejection's reason (one of the configured list) and the signer's explanation. */
  rejection?: { reason: string; explanation: string } | null;
  contentHash?: string;
}

export function SignatureManifestation(props: ManifestationProps) {
  return (
    <div className={`manifestation intent-${props.intent}`}>
      <p className="manifestation-line">
        <strong>{visibleText(props.printedName)}</strong> — <em>{visibleText(props.meaning)}</em>
      </p>
      <p className="manifestation-time muted">
        <time dateTime={props.signedAt} title={localTitle(props.signedAt)}>
          {formatUtc(props.signedAt)}
        </time>{' '}
        · local {formatLocal(props.signedAt)}
      </p>
      {props.rejection ? (
        <p className="manifestation-rejection">
          Reason for rejection: <strong>{visibleText(props.rejection.reason)}</strong> —{' '}
          {visibleText(props.rejection.explanation)}
        </p>
      ) : null}
      {props.comment ? <p className="manifestation-comment">Comment: {visibleText(props.comment)}</p> : null}
      {props.contentHash ? (
        <p className="manifestation-hash muted">
          Content hash <code>{props.contentHash}</code>
        </p>
      ) : null}
    </div>
  );
}
