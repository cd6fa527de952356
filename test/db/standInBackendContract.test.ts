// The adapter contract (test/db/backendContract.ts) against the Supabase adapter talking to the
// Supabase stand-in over HTTP (test/db/support/supabaseStandIn.ts), backed by a test database: always
// runs, and no case is skipped. The signer signs in with password and TOTP through the stand-in's
// Supabase Auth and signs through PostgREST; an agent proposes through the `cro.staging_record`
// table endpoint; the access world's investigator syncs with their token (a stand-in of its own).
import { createSupabaseClient } from '../../src/main/backend/supabase/supabaseClient';
import { SupabaseSession } from '../../src/main/backend/supabase/supabaseSession';
import { describeBackendContract } from './backendContract';
import { buildSigningWorld, password } from './support/signingWorld';
import { startStandInOver } from './support/supabaseStandIn';
import { syncContractWorld } from './support/syncContractWorld';
import { createTestDatabase } from './support/testServer';

describeBackendContract('Supabase adapter against the stand-in', async () => {
  const db = await createTestDatabase();
  const world = await buildSigningWorld(db);
  const signer = await world.newSigner();
  const standIn = await startStandInOver(db);
  const project = { url: standIn.url, anonKey: standIn.anonKey };
  const session = await SupabaseSession.signIn(project, signer.email, password, signer.code(), {
    autoRefreshToken: false,
  });
  const agentEmail = db.email('contract-agent');
  const agentId = await db.provision({
    email: agentEmail,
    printedName: 'Contract Agent',
    password,
    roles: [{ role: 'agent', studyId: world.studyA }],
    agentId: 'agent:contract',
  });
  const agent = createSupabaseClient(project, { autoRefreshToken: false });
  const signedIn = await agent.auth.signInWithPassword({ email: agentEmail, password });
  if (signedIn.error) throw new Error(`the contract agent cannot sign in: ${signedIn.error.message}`);
  const sync = await syncContractWorld('stand-in');
  return {
    signer: {
      userId: signer.id,
      backend: session.signingBackend(),
      password,
      code: async () => signer.code(),
    },
    async propose(count) {
      const rows = Array.from({ length: count }, (_, i) => ({
        entity_kind: 'study_kpi',
        entity_id: null,
        study_id: world.studyA,
        agent_id: 'agent:contract',
        proposed_state: { label: `Contract KPI ${Date.now()}-${i}`, value: `${i}%`, position: 100 + i },
        created_by: agentId,
      }));
      const { data, error } = await agent.schema('cro').from('staging_record').insert(rows).select('id');
      if (error) throw new Error(`the contract agent cannot propose: ${error.message}`);
      return (data ?? []).map((row) => row.id as string);
    },
    sync,
    async close() {
      await sync.close();
      await session.close();
      await agent.auth.signOut({ scope: 'local' });
      await standIn.close();
      await world.close();
      await db.drop();
    },
  };
});
