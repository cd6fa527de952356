// Which backend the workstation uses, from the environment. Nothing configured means the embedded
// demo backend. Secrets never come from here: people sign in with their own credentials.
import { z } from 'zod';

export const defaultEmbeddedPort = 54329;
export const embeddedDatabase = 'countersign';

const BackendEnvironment = z.object({
  COUNTERSIGN_BACKEND: z.enum(['embedded', 'postgres', 'supabase']).default('embedded'),
  COUNTERSIGN_PG_PORT: z.coerce.number().int().min(1024).max(65535).default(defaultEmbeddedPort),
  COUNTERSIGN_PG_HOST: z.string().min(1).default('127.0.0.1'),
  COUNTERSIGN_PG_DATABASE: z.string().min(1).default(embeddedDatabase),
  COUNTERSIGN_PG_SSL: z.enum(['disable', 'require']).default('disable'),
});

export type BackendConfig =
  | { mode: 'embedded'; port: number }
  | { mode: 'postgres'; host: string; port: number; database: string; ssl: boolean }
  | { mode: 'supabase' };

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
      ssl: e.COUNTERSIGN_PG_SSL === 'require',
    };
  }
  if (e.COUNTERSIGN_BACKEND === 'supabase') return { mode: 'supabase' };
  return { mode: 'embedded', port: e.COUNTERSIGN_PG_PORT };
}
