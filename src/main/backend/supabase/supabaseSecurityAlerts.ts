// Security alerts and unlocking through PostgREST (hosted mode, migration 0056). The unlock, like
// sign_batch, needs the token of a session that has just passed MFA (require_gateway_reauth).
import type { SupabaseClient } from '@supabase/supabase-js';
import type { LockKind, SecurityAlertsBackend, ServerSecurityAlert } from '../../admin/securityAlerts';
import { callRpc } from './supabaseRpc';

export class SupabaseSecurityAlerts implements SecurityAlertsBackend {
  constructor(private readonly client: SupabaseClient) {}

  async list(): Promise<ServerSecurityAlert[]> {
    const rows = await callRpc<ServerSecurityAlert[] | null>(this.client, 'security_alerts');
    return Array.isArray(rows) ? rows : [];
  }

  async review(alertId: string, decision: 'acknowledged' | 'closed', reason: string): Promise<void> {
    await callRpc(this.client, 'review_security_alert', { alert_id: alertId, decision, reason });
  }

  async unlock(userId: string, lockKind: LockKind, reason: string, ceremonyId: string): Promise<void> {
    await callRpc(this.client, 'unlock_account', {
      person: userId,
      lock_kind: lockKind,
      reason,
      ceremony_id: ceremonyId,
    });
  }
}
