// QA in an inspection room on a hosted-mode workstation (issue 23): the same flow as qa.test.ts
// (support/qaFlow.ts), the cache pulled through PostgREST from the Supabase stand-in over the same
// database; with the backend stopped the stand-in answers 503 and everything is read from the cache.
import { hostedTarget } from './support/e2eTarget';
import { describeQaFlow } from './support/qaFlow';

describeQaFlow(
  hostedTarget(),
  'QA reviews the audit trail offline in hosted mode [HOSTED-E2E, UI-QA-OFFLINE, UI-PEOPLE-NAMES]',
);
