// The adapter contract (test/db/backendContract.ts) against the Supabase adapter and a real
// Supabase project (test/db/standInBackendContract.test.ts runs the same cases against the stand-in
// always). Runs only when one is configured (SUPABASE_TEST_URL and SUPABASE_TEST_ANON_KEY),
// otherwise it is skipped with a line saying so. The project needs the migrations applied, TOTP MFA
// enabled, schema `cro` exposed, and two accounts (docs/backend-modes.md, "Hosted mode"):
//   SUPABASE_TEST_SIGNER_EMAIL / _PASSWORD / _TOTP_SECRET  a signer of SUPABASE_TEST_STUDY_ID with a
//                                                          verified TOTP factor of that secret
//   SUPABASE_TEST_AGENT_EMAIL / _PASSWORD                  an agent of that study (makes proposals)
import { generateSync } from 'otplib';
import { createSupabaseClient } from '../../src/main/backend/supabase/supabaseClient';
import { SupabaseSession } from '../../src/main/backend/supabase/supabaseSession';
import { describeBackendContract } from './backendContract';

const env = process.env;
const required = [
  'SUPABASE_TEST_SIGNER_EMAIL',
  'SUPABASE_TEST_SIGNER_PASSWORD',
  'SUPABASE_TEST_SIGNER_TOTP_SECRET',
  'SUPABASE_TEST_AGENT_EMAIL',
  'SUPABASE_TEST_AGENT_PASSWORD',
  'SUPABASE_TEST_STUDY_ID',
];

describeBackendContract(
  'Supabase adapter',
  !env.SUPABASE_TEST_URL || !env.SUPABASE_TEST_ANON_KEY
    ? {
        skip: 'set SUPABASE_TEST_URL and SUPABASE_TEST_ANON_KEY (and the accounts listed in this file) to run it against a Supabase project',
      }
    : async () => {
        const missing = required.filter((name) => !env[name]);
        if (missing.length > 0)
          throw new Error(`the Supabase contract suite also needs ${missing.join(', ')}`);
        const project = {
          url: env.SUPABASE_TEST_URL as string,
          anonKey: env.SUPABASE_TEST_ANON_KEY as string,
        };
        const secret = env.SUPABASE_TEST_SIGNER_TOTP_SECRET as string;
        // Sign-in uses this step's code; later codes come from a later step, in case Supabase refuses a
        // code used twice.
        const step = () => Math.floor(Date.now() / 30_000);
        const signInStep = step();
        const codeOf = (at: number) => generateSync({ secret, epoch: at * 30 });
        const code = async () => {
          while (step() === signInStep) await new Promise((resolve) => setTimeout(resolve, 500));
          return codeOf(step());
        };
        const session = await SupabaseSession.signIn(
          project,
          env.SUPABASE_TEST_SIGNER_EMAIL as string,
          env.SUPABASE_TEST_SIGNER_PASSWORD as string,
          codeOf(signInStep),
        );
        const agent = createSupabaseClient(project, { autoRefreshToken: false });
        const signedIn = await agent.auth.signInWithPassword({
          email: env.SUPABASE_TEST_AGENT_EMAIL as string,
          password: env.SUPABASE_TEST_AGENT_PASSWORD as string,
        });
        if (signedIn.error) throw new Error(`the test agent cannot sign in: ${signedIn.error.message}`);
        return {
          signer: {
            userId: session.identity.userId,
            backend: session.signingBackend(),
            password: env.SUPABASE_TEST_SIGNER_PASSWORD as string,
            code,
          },
          async propose(count) {
            const rows = Array.from({ length: count }, (_, i) => ({
              entity_kind: 'study_kpi',
              entity_id: null,
              study_id: env.SUPABASE_TEST_STUDY_ID,
              agent_id: 'agent:contract-test',
              proposed_state: { label: `Contract KPI ${Date.now()}-${i}`, value: `${i}%`, position: 100 + i },
              created_by: signedIn.data.user.id,
            }));
            const { data, error } = await agent
              .schema('cro')
              .from('staging_record')
              .insert(rows)
              .select('id');
            if (error) throw new Error(`the test agent cannot propose: ${error.message}`);
            return (data ?? []).map((row) => row.id as string);
          },
          // The sync cases compare the cache with what the person's own database login reads, which
          // a real project does not offer the test; the stand-in's contract runs them.
          sync: {
            skip: 'a real Supabase project gives the test no database login to compare the cache with (test/db/standInBackendContract.test.ts runs these cases)',
          },
          async close() {
            await session.close();
            await agent.auth.signOut({ scope: 'local' });
          },
        };
      },
);
