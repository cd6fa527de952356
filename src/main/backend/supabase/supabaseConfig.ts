// Where a Supabase project is: its API URL and its anon (publishable) key. The anon key is not a
// secret (every browser client of the project holds it; RLS is what protects the data), but it is
// still kept out of logs and away from the renderer, which only ever sees the project's host.
import { z } from 'zod';
import type { BackendAddress } from '../../cache/cacheLocation';

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

export const SupabaseProject = z.object({
  url: z
    .string()
    .trim()
    .pipe(
      z.url({
        protocol: /^https?$/,
        error: 'the Supabase URL is an http(s) URL, e.g. https://abcd.supabase.co',
      }),
    )
    .refine((value) => {
      const parsed = new URL(value);
      return parsed.protocol === 'https:' || loopbackHosts.has(parsed.hostname);
    }, 'the Supabase URL must use https (plain http only for a local project on 127.0.0.1)')
    .transform((value) => value.replace(/\/+$/, '')),
  anonKey: z
    .string()
    .trim()
    // A legacy anon JWT (three base64url parts) or a new publishable key (sb_publishable_...).
    .regex(
      /^(?:[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+|sb_publishable_[A-Za-z0-9_-]+)$/,
      'the anon key is the project’s anon (JWT) or publishable (sb_publishable_…) key',
    )
    .refine((value) => !value.startsWith('sb_secret_'), 'never use a secret or service-role key here'),
});
export type SupabaseProject = z.infer<typeof SupabaseProject>;

/** A legacy anon key is a JWT: refuse one whose role claim says service_role. */
export function assertNotServiceRole(anonKey: string): void {
  const payload = anonKey.split('.')[1];
  if (!payload) return;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { role?: unknown };
    if (claims.role === 'service_role') {
      throw new Error('this is the service_role key, which bypasses every access rule; use the anon key');
    }
  } catch (error) {
    if (error instanceof SyntaxError) return;
    throw error;
  }
}

/**
 * Where a project's caches and offline verifiers are filed (cacheLocation.ts names them by a backend
 * address): its host and port, with a fixed database name.
 */
export function hostedBackendAddress(project: SupabaseProject): BackendAddress {
  const url = new URL(project.url);
  return {
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    database: 'supabase',
  };
}

/** What may be shown or logged about a project: its host, never the key. */
export function describeProject(project: SupabaseProject): string {
  return new URL(project.url).host;
}
