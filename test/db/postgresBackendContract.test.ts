// The adapter contract (test/db/backendContract.ts) against the PostgreSQL adapter, on the run's
// embedded PostgreSQL: always runs. Signing as a signer of the signing world; sync as the access
// world's investigator over their own login.
import { describeBackendContract } from './backendContract';
import { propose } from './support/operatorActions';
import { buildSigningWorld, password } from './support/signingWorld';
import { syncContractWorld } from './support/syncContractWorld';
import { createTestDatabase } from './support/testServer';

describeBackendContract('PostgreSQL adapter', async () => {
  const db = await createTestDatabase();
  const world = await buildSigningWorld(db);
  const signer = await world.newSigner();
  const sync = await syncContractWorld('postgres');
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
    sync,
    async close() {
      await sync.close();
      await world.close();
      await db.drop();
    },
  };
});
