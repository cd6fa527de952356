// The investigator's day on a hosted-mode workstation (issue 23): the same flow as
// investigator.test.ts (support/investigatorFlow.ts), pulled and sent through the Supabase stand-in
// over the same database. Its annotations carry texts of their own, since both runs work on the
// same records.
import { hostedTarget } from './support/e2eTarget';
import { describeInvestigatorFlow } from './support/investigatorFlow';

describeInvestigatorFlow(
  hostedTarget(),
  'investigator on a hosted-mode workstation [HOSTED-E2E, UI-DIARY-OFFLINE, SYNC-OUTBOX, UI-PEOPLE-NAMES]',
  'Hosted offline',
);
