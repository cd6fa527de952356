// The backend profile chosen on the sign-in screen (contract channel backend.configure), turned into
// the same BackendConfig the environment gives: embedded demo, an on-premises PostgreSQL, or a
// hosted Supabase project. Inputs are checked here again, with messages for the person who typed them.
import type { z } from 'zod';
import type { BackendProfile } from '../../shared/contract';
import { UserFacingError } from '../userFacingError';
import { type BackendConfig, defaultEmbeddedPort } from './backendConfig';
import { postgresTlsFor } from './postgres/postgresTls';
import { assertNotServiceRole, SupabaseProject } from './supabase/supabaseConfig';

export function backendConfigFromProfile(
  profile: z.output<typeof BackendProfile>,
  embeddedPort = defaultEmbeddedPort,
): BackendConfig {
  if (profile.profile === 'embedded') return { mode: 'embedded', port: embeddedPort };
  if (profile.profile === 'postgres') {
    if (!/^[A-Za-z0-9.-]+$|^\[[0-9a-fA-F:]+\]$/.test(profile.host)) {
      throw new UserFacingError('The PostgreSQL host is a host name or an IP address.');
    }
    return {
      mode: 'postgres',
      host: profile.host,
      port: profile.port,
      database: profile.database,
      tls: postgresTlsFor(profile.host, profile.tls),
    };
  }
  const project = SupabaseProject.safeParse({ url: profile.url, anonKey: profile.anonKey });
  if (!project.success) {
    throw new UserFacingError(
      `Check the Supabase settings: ${project.error.issues[0]?.message ?? 'invalid'}.`,
    );
  }
  try {
    assertNotServiceRole(project.data.anonKey);
  } catch (error) {
    throw new UserFacingError(`Check the Supabase settings: ${(error as Error).message}.`);
  }
  return { mode: 'supabase', project: project.data };
}
