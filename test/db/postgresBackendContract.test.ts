// The signing backend contract (test/db/backendContract.ts) against the PostgreSQL adapter, on the
// run's embedded PostgreSQL: always runs.
import { describeSigningBackendContract } from './backendContract';
import { propose } from './support/operatorActions';
import { buildSigningWorld, password } from './support/signingWorld';
import { createTestDatabase } from './support/testServer';

describeSigningBackendContract('PostgreSQL adapter', async () => {
  const db = await createTestDatabase();
  const world = await buildSigningWorld(db);
  const signer = await world.newSigner();
  return {
    signer: { userId: signer.id, backend: signer.backend, password, code: async () => signer.code() },
    async propose(count) {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        ids.push(
          await propose(db.operator, world.agentA, {
            entityKind: 'study_kpi',
            entityId: null,
            studyId: world.studyA,
            proposedState: { label: `Contract KPI ${i}`, value: `${i}%`, position: 100 + i },
          }),
        );
      }
      return ids;
    },
    async close() {
      await world.close();
      await db.drop();
    },
  };
});
