// Security alerts and unlocking over the person's own PostgreSQL session (migration 0056).
import type pg from 'pg';
import type { LockKind, SecurityAlertsBackend, ServerSecurityAlert } from '../../admin/securityAlerts';
import { TransientBackendError } from '../../signing/signingBackend';
import { isTransient, userFacingServerError } from './postgresSigning';

export class PostgresSecurityAlerts implements SecurityAlertsBackend {
  constructor(private readonly client: pg.Client) {}

  private async query<Row extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<Row[]> {
    try {
      return (await this.client.query<Row>(sql, params)).rows;
    } catch (error) {
      if (isTransient(error)) throw new TransientBackendError('the connection to the server was lost');
      throw userFacingServerError(error);
    }
  }

  list(): Promise<ServerSecurityAlert[]> {
    return this.query<ServerSecurityAlert>(
      `select a.id::text as id, a.kind, a.raised_at, a.user_id::text as user_id, a.printed_name, a.failed_attempts,
              a.client_addr, a.application_name, a.lock_kind, a.still_locked, a.state, a.decided_by_name,
              a.decided_at, a.decision_reason
         from public.security_alerts() a`,
    );
  }

  async review(alertId: string, decision: 'acknowledged' | 'closed', reason: string): Promise<void> {
    await this.query('select public.review_security_alert($1, $2, $3)', [alertId, decision, reason]);
  }

  async unlock(userId: string, lockKind: LockKind, reason: string, ceremonyId: string): Promise<void> {
    await this.query('select public.unlock_account($1, $2, $3, $4)', [userId, lockKind, reason, ceremonyId]);
  }
}
