// QA in an inspection room on the embedded demo: the shared QA flow (support/qaFlow.ts) — provenance
// and audit read online, then offline from the cache with the backend's PostgreSQL stopped for
// real, the chain verified from genesis and a changed cached entry named; online again after a sync.

import { embeddedTarget } from './support/e2eTarget';
import { describeQaFlow } from './support/qaFlow';

describeQaFlow(embeddedTarget(), 'QA reviews the audit trail offline [UI-QA-OFFLINE, UI-PEOPLE-NAMES]');
