// The investigator's day on the embedded demo: the shared flow (support/investigatorFlow.ts) —
// annotations, a query, its reply and its closing made offline with the backend's PostgreSQL stopped
// for real, then sent exactly once after reconnecting.
import { embeddedTarget } from './support/e2eTarget';
import { describeInvestigatorFlow } from './support/investigatorFlow';

describeInvestigatorFlow(
  embeddedTarget(),
  'investigator in the browser host [UI-DIARY-OFFLINE, SYNC-OUTBOX, UI-PEOPLE-NAMES]',
  'Offline',
);
