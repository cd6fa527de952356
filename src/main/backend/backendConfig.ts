// Which backend the workstation uses, from the environment. Nothing configured means the embedded
// demo backend. Secrets never come from here: people sign in with their own credentials.
import { z } from 'zod';
import { type PostgresTls, postgresTlsFor, postgresTlsSettings } from './postgres/postgresTls';
import { assertNotServiceRole, SupabaseProject } from './supabase/supabaseConfig';

export const defaultEmbeddedPort = 54329;
export const embeddedDatabase = 'countersign';

const BackendEnvironment = z.object({
  COUNTERSIGN_BACKEND: z.enum(['embedded', 'postgres', 'supabase']).default('embedded'),
  COUNTERSIGN_PG_PORT: z.coerce.number().int().min(1024).max(65535).default(defaultEmbeddedPort),
  COUNTERSIGN_PG_HOST: z.string().min(1).default('127.0.0.1'),
  COUNTERSIGN_PG_DATABASE: z.string().min(1).default(embeddedDatabase),
  // Unset: TLS (verify-full) to any host but this machine. `disable` only by name (postgresTls.ts).
  COUNTERSIGN_PG_SSL: z.enum(postgresTlsSettings).optional(),
  /** A CA certificate (PEM) to verify the server against instead of the system's trusted roots. */
  COUNTERSIGN_PG_SSL_ROOT_CERT: z.string().min(1).optional(),
  // Hosted mode (COUNTERSIGN_BACKEND=supabase): the project's API URL and anon key.
  COUNTERSIGN_SUPABASE_URL: z.string().optional(),
  COUNTERSIGN_SUPABASE_ANON_KEY: z.string().optional(),
});

export type BackendConfig =
  | { mode: 'embedded'; port: number }
  | { mode: 'postgres'; host: string; port: number; database: string; tls: PostgresTls }
  | { mode: 'supabase'; project: SupabaseProject };

export function backendConfigFrom(env: Record<string, string | undefined>): BackendConfig {
  const parsed = BackendEnvironment.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Invalid backend setting ${issue?.path.join('.')}: ${issue?.message}`);
  }
  const e = parsed.data;
  if (e.COUNTERSIGN_BACKEND === 'postgres') {
    const port = env.COUNTERSIGN_PG_PORT ? e.COUNTERSIGN_PG_PORT : 5432;
    return {
      mode: 'postgres',
      host: e.COUNTERSIGN_PG_HOST,
      port,
      database: e.COUNTERSIGN_PG_DATABASE,
      tls: postgresTlsFor(
        e.COUNTERSIGN_PG_HOST,
        e.COUNTERSIGN_PG_SSL,
        e.COUNTERSIGN_PG_SSL_ROOT_CERT ?? null,
      ),
    };
  }
  if (e.COUNTERSIGN_BACKEND === 'supabase') {
    if (!e.COUNTERSIGN_SUPABASE_URL || !e.COUNTERSIGN_SUPABASE_ANON_KEY) {
      throw new Error(
        'COUNTERSIGN_BACKEND=supabase needs COUNTERSIGN_SUPABASE_URL and COUNTERSIGN_SUPABASE_ANON_KEY ' +
          '(Project Settings → API in the Supabase dashboard).',
      );
    }
    const project = SupabaseProject.safeParse({
      url: e.COUNTERSIGN_SUPABASE_URL,
      anonKey: e.COUNTERSIGN_SUPABASE_ANON_KEY,
    });
    if (!project.success) {
      // The message names the setting, never its value: the key stays out of logs.
      const issue = project.error.issues[0];
      const setting = issue?.path[0] === 'url' ? 'COUNTERSIGN_SUPABASE_URL' : 'COUNTERSIGN_SUPABASE_ANON_KEY';
      throw new Error(`Invalid backend setting ${setting}: ${issue?.message}`);
    }
    assertNotServiceRole(project.data.anonKey);
    return { mode: 'supabase', project: project.data };
  }
  return { mode: 'embedded', port: e.COUNTERSIGN_PG_PORT };
}
