// Approve or refuse another administrator's role-change request, with a reason.
import type { RoleChangeRequestRow } from '../../../shared/contract';
import { api } from '../common/api';
import { ReasonDialog } from './ReasonDialog';

export interface RoleDecisionDialogProps {
  request: RoleChangeRequestRow;
  /** What the request asks, in words (who, which change). */
  summary: string;
  approve: boolean;
  onClose: (changed: boolean) => void;
}

export function RoleDecisionDialog({ request, summary, approve, onClose }: RoleDecisionDialogProps) {
  return (
    <ReasonDialog
      id="role-decision"
      verb={approve ? 'Approve' : 'Refuse'}
      subject="role change"
      what="request"
      send={(reason) => api['admin.decideRoleChange']({ requestId: request.id, approve, reason })}
      onClose={onClose}
    >
      <p>{summary}</p>
    </ReasonDialog>
  );
}
