// The audit chain's state at the top of the screen: the verified head (sequence number and hash)
// and when it was verified, or, impossible to miss, the first bad entry and what is wrong with it.
// Verification runs on this computer over the cached chain, so it works offline.
import type { ResponseOf } from '../../../shared/contract';
import { Timestamp } from '../common/Timestamp';
import { hashPrefix } from './payloadText';

export type ChainVerification = ResponseOf<'chain.verify'>;

interface ChainStatusProps {
  verification: ChainVerification | null;
  /** Which run produced it: from genesis, or from the last verified head. */
  full: boolean;
  verifying: boolean;
  /** The newest entry the cache holds. */
  newestSeq: number | null;
  onVerify: (full: boolean) => void;
  onShowEntry: (seq: number) => void;
}

export function ChainStatus(props: ChainStatusProps) {
  const { verification: chain } = props;
  return (
    <section className="chain-status" aria-labelledby="chain-status-heading">
      <div className="chain-status-header">
        <h3 id="chain-status-heading">Audit chain</h3>
        <div className="chain-actions">
          <button
            type="button"
            className="button"
            disabled={props.verifying}
            onClick={() => props.onVerify(false)}
          >
            Verify new entries
          </button>
          <button
            type="button"
            className="button"
            disabled={props.verifying}
            onClick={() => props.onVerify(true)}
          >
            Re-verify from genesis
          </button>
        </div>
      </div>
      <div aria-live="polite">
        {props.verifying && <p className="muted">Verifying the cached chain…</p>}
        {!props.verifying && chain === null && <p className="muted">Not verified yet in this session.</p>}
        {!props.verifying && chain !== null && chain.ok && chain.verifiedThroughSeq === 0 && (
          <p className="muted" role="status">
            Nothing to verify: your cache holds no audit log entries. Inspectors and administrators read the
            audit log; for other roles this screen shows the provenance and signatures they may read.
          </p>
        )}
        {!props.verifying && chain !== null && chain.ok && chain.verifiedThroughSeq > 0 && (
          <p className="chain-ok" role="status">
            <span aria-hidden="true">✓ </span>
            <strong>Chain verified</strong> through entry{' '}
            <strong className="chain-seq">{chain.verifiedThroughSeq.toLocaleString()}</strong> · head hash{' '}
            <code title={chain.headHash}>{hashPrefix(chain.headHash, 16)}</code> · verified{' '}
            <Timestamp iso={chain.verifiedAt} /> ·{' '}
            {props.full
              ? `${chain.checked.toLocaleString()} entries re-checked from genesis`
              : `${chain.checked.toLocaleString()} new entries checked since the last verified head`}
            {props.newestSeq !== null && props.newestSeq > chain.verifiedThroughSeq && (
              <span className="status-note">
                {' '}
                · the cache holds entries up to {props.newestSeq.toLocaleString()}, not yet verified
              </span>
            )}
          </p>
        )}
      </div>
      {!props.verifying && chain !== null && !chain.ok && (
        <div className="chain-break" role="alert">
          <p className="chain-break-title">
            <span aria-hidden="true">✗ </span>
            AUDIT CHAIN BROKEN at entry{' '}
            <strong className="chain-seq">{chain.firstBadSeq?.toLocaleString() ?? 'unknown'}</strong>
          </p>
          <p>{chain.problem}</p>
          <p>
            Verified head: entry {chain.verifiedThroughSeq.toLocaleString()} (hash{' '}
            <code title={chain.headHash}>{hashPrefix(chain.headHash, 16)}</code>), checked{' '}
            <Timestamp iso={chain.verifiedAt} />. Nothing from entry{' '}
            {(chain.firstBadSeq ?? chain.verifiedThroughSeq + 1).toLocaleString()} on can be relied on until
            the cause is found.
          </p>
          {chain.firstBadSeq !== null && (
            <button
              type="button"
              className="button"
              onClick={() => props.onShowEntry(chain.firstBadSeq as number)}
            >
              Show entry {chain.firstBadSeq.toLocaleString()}
            </button>
          )}
        </div>
      )}
    </section>
  );
}
