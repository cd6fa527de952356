// A world for the signing tests: two studies, an agent in each, an admin, and signers provisioned on
// demand (each with their own TOTP secret, so that one test's used code never blocks another's).
// People sign in exactly as the workstation does (PostgresSession), and sign through its services.
import { generateSecret, generateSync } from 'otplib';
import { PostgresSession } from '../../../src/main/backend/postgres/postgresSession';
import type { PostgresSigningBackend } from '../../../src/main/backend/postgres/postgresSigning';
import { type BuildRow, buildIn, standardConfiguration } from './buildActions';
import { actingAs, createKpi, createStudy, propose } from './operatorActions';
import type { TestDatabase } from './testServer';

export const password = 'correct horse battery staple';

export interface Signer {
  id: string;
  email: string;
  secret: string;
  session: PostgresSession;
  backend: PostgresSigningBackend;
  /** The TOTP code of the current 30-second step (or `steps` steps away). */
  code(steps?: number): string;
}

export interface SigningWorld {
  studyA: string;
  studyB: string;
  adminId: string;
  agentA: string;
  agentB: string;
  kpiA: string;
  newSigner(options?: { study?: string; roles?: ('signer' | 'monitor')[]; totp?: boolean }): Promise<Signer>;
  /** New proposals in a study, moved to reviewing (as the signer would open them). */
  reviewing(
    study: string,
    count: number,
    proposedState?: (index: number) => Record<string, unknown>,
  ): Promise<string[]>;
  state(id: string): Promise<string>;
  count(sql: string, params?: unknown[]): Promise<number>;
  /** A protocol amendment `number` of the study (the standard configuration), completed by the admin: its new current build. */
  completedAmendment(study: string, number: string): Promise<BuildRow>;
  close(): Promise<void>;
}

export function totpCode(secret: string, steps = 0): string {
  return generateSync({ secret, epoch: Math.floor(Date.now() / 1000) + steps * 30 });
}

export async function buildSigningWorld(db: TestDatabase): Promise<SigningWorld> {
  const address = { host: db.server.host, port: db.server.port, database: db.name };
  const sessions: PostgresSession[] = [];
  const adminId = await db.provision({
    email: db.email('admin'),
    printedName: 'Ada Admin',
    password,
    roles: [{ role: 'admin', studyId: null }],
  });
  const studyA = await createStudy(db.operator, adminId, `SIGN-A-${db.tag}`);
  const studyB = await createStudy(db.operator, adminId, `SIGN-B-${db.tag}`);
  const agentA = await db.provision({
    email: db.email('agent-a'),
    printedName: 'Agent A',
    password,
    roles: [{ role: 'agent', studyId: studyA }],
  });
  const agentB = await db.provision({
    email: db.email('agent-b'),
    printedName: 'Agent B',
    password,
    roles: [{ role: 'agent', studyId: studyB }],
  });
  const kpiA = await createKpi(db.operator, adminId, studyA);
  let signers = 0;

  const state = async (id: string) =>
    (
      await db.operator.query<{ state: string }>('select state::text from cro.staging_record where id = $1', [
        id,
      ])
    ).rows[0]?.state as string;

  return {
    studyA,
    studyB,
    adminId,
    agentA,
    agentB,
    kpiA,
    async newSigner(options = {}) {
      const name = `signer${++signers}`;
      const secret = generateSecret();
      const email = db.email(name);
      const id = await db.provision({
        email,
        printedName: `Sam Signer ${signers}`,
        password,
        roles: (options.roles ?? ['signer']).map((role) => ({ role, studyId: options.study ?? studyA })),
        totpSecretBase32: options.totp === false ? null : secret,
      });
      const session = await PostgresSession.signIn(address, email, password);
      sessions.push(session);
      return {
        id,
        email,
        secret,
        session,
        backend: session.signingBackend(),
        code: (steps = 0) => totpCode(secret, steps),
      };
    },
    async reviewing(study, count, proposedState) {
      const agent = study === studyA ? agentA : agentB;
      const ids: string[] = [];
      for (let index = 0; index < count; index++) {
        ids.push(
          await propose(db.operator, agent, {
            entityKind: 'study_kpi',
            entityId: null,
            studyId: study,
            proposedState: proposedState?.(index) ?? {
              label: `KPI ${index}`,
              value: `${index}%`,
              position: index,
            },
          }),
        );
      }
      await actingAs(db.operator, adminId, () =>
        db.operator.query(`update cro.staging_record set state = 'reviewing' where id = any ($1::uuid[])`, [
          ids,
        ]),
      );
      return ids;
    },
    state,
    async count(sql, params = []) {
      const { rows } = await db.operator.query<{ n: string }>(`select count(*) as n from (${sql}) q`, params);
      return Number(rows[0]?.n);
    },
    async completedAmendment(study, number) {
      const admin = await db.connectAs(db.email('admin'), password);
      try {
        return await buildIn(admin, 'COMPLETED', {
          study,
          number,
          reference: `Protocol amendment ${number}`,
          configuration: await standardConfiguration(db.operator),
        });
      } finally {
        await admin.end();
      }
    },
    async close() {
      await Promise.all(sessions.map((session) => session.close()));
    },
  };
}
