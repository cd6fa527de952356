// One supabase-js client per signed-in person, configured for a desktop main process: session in
// memory (never localStorage, never the renderer), no URL session detection, and a fetch that tests
// can replace to shape and inspect requests without a network.
import { createClient, type RealtimeClientOptions, type SupabaseClient } from '@supabase/supabase-js';
import { MemorySessionStorage } from './memorySessionStorage';
import type { SupabaseProject } from './supabaseConfig';

export interface SupabaseClientOptions {
  fetch?: typeof fetch;
  /** Refresh the access token before it expires (default true; tests turn it off). */
  autoRefreshToken?: boolean;
}

/**
 * Countersign does not use Realtime; supabase-js still builds its client eagerly and, on Node 20
 * (tests, the browser host), finds no WebSocket. This transport refuses to be used instead.
 */
class RealtimeNotUsed {
  constructor() {
    throw new Error('Countersign does not use Supabase Realtime');
  }
}

export function createSupabaseClient(
  project: SupabaseProject,
  options: SupabaseClientOptions = {},
): SupabaseClient {
  return createClient(project.url, project.anonKey, {
    auth: {
      storage: new MemorySessionStorage(),
      storageKey: 'countersign-session',
      persistSession: true,
      autoRefreshToken: options.autoRefreshToken ?? true,
      detectSessionInUrl: false,
    },
    realtime: { transport: RealtimeNotUsed as unknown as NonNullable<RealtimeClientOptions['transport']> },
    global: {
      ...(options.fetch ? { fetch: options.fetch } : {}),
      headers: { 'X-Client-Info': 'countersign-workstation' },
    },
  });
}
