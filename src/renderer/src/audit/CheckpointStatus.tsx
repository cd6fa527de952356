// The cosigned checkpoint under the chain's status (issue 24, docs/checkpoints.md): which tree size
// this workstation last cosigned and by how many keys, or, impossible to miss, that it found the
// audit history rewritten (a server's log that no longer matches what was verified and cosigned
// here), after which it cosigns nothing more.
import type { SyncStatus } from '../../../shared/contract';

export function CheckpointStatus(props: { checkpoint: SyncStatus['checkpoint'] }) {
  const checkpoint = props.checkpoint;
  if (!checkpoint || checkpoint.state === 'none') return null;
  if (checkpoint.state === 'rewritten') {
    return (
      <div className="chain-break" role="alert">
        <p className="chain-break-title">
          <span aria-hidden="true">✗ </span>
          HISTORY REWRITTEN
        </p>
        <p>{checkpoint.problem}</p>
      </div>
    );
  }
  return (
    <p className="chain-ok" role="status">
      <span aria-hidden="true">✓ </span>
      <strong>Checkpoint cosigned</strong> at {checkpoint.treeSize?.toLocaleString()} entries ·{' '}
      {checkpoint.cosigners === 1 ? '1 key' : `${checkpoint.cosigners.toLocaleString()} keys`} (this
      workstation's included)
    </p>
  );
}
