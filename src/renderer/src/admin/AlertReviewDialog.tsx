// Acknowledge (seen, being looked into) or close (dealt with) a security alert, with a reason.
import type { SecurityAlert } from '../../../shared/contract';
import { api } from '../common/api';
import { visibleText } from '../common/visibleText';
import { alertKindLabel } from './alertValues';
import { ReasonDialog } from './ReasonDialog';

export interface AlertReviewDialogProps {
  alert: SecurityAlert;
  decision: 'acknowledged' | 'closed';
  onClose: (changed: boolean) => void;
}

export function AlertReviewDialog({ alert, decision, onClose }: AlertReviewDialogProps) {
  return (
    <ReasonDialog
      id="alert-review"
      verb={decision === 'acknowledged' ? 'Acknowledge' : 'Close'}
      subject="alert"
      what="alert"
      autoFocusReason
      send={(reason) => api['admin.reviewAlert']({ alertId: alert.id, decision, reason })}
      onClose={onClose}
    >
      <p>
        {alertKindLabel(alert.kind)}: <strong>{visibleText(alert.printedName ?? 'unknown person')}</strong>
        {alert.failedAttempts !== null && `, after ${alert.failedAttempts} failed attempts`}.
      </p>
    </ReasonDialog>
  );
}
