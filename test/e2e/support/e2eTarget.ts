// Which workstation a shared flow (qaFlow.ts, investigatorFlow.ts) drives: the embedded one, or the
// hosted one against the Supabase stand-in (globalSetup.ts). Both share one PostgreSQL and one
// backend control; each files its caches under its own data folder and backend address.
import { inject } from 'vitest';
import { embeddedDatabase } from '../../../src/main/backend/backendConfig';
import type { BackendAddress } from '../../../src/main/cache/cacheLocation';
import type { E2eServer } from '../globalSetup';

export interface E2eTarget extends E2eServer {
  /** The backend mode the workstation reports (backend.status): the flow checks it runs where it should. */
  mode: 'embedded' | 'supabase';
  /** Where this workstation files a person's cache (cacheLocation.ts). */
  cacheBackend: BackendAddress;
  /** Before each screenshot's name: '' for the embedded run, 'hosted-' for the hosted one. */
  screenshotPrefix: string;
}

export function embeddedTarget(): E2eTarget | null {
  const server = inject('e2e');
  if (!server) return null;
  return {
    ...server,
    mode: 'embedded',
    cacheBackend: { host: '127.0.0.1', port: server.pgPort, database: embeddedDatabase },
    screenshotPrefix: '',
  };
}

export function hostedTarget(): E2eTarget | null {
  const server = inject('e2eHosted');
  if (!server) return null;
  return { ...server, mode: 'supabase', screenshotPrefix: 'hosted-' };
}
