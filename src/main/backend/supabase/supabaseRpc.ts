// Calls one of the Countersign functions PostgREST exposes (schema public, POST /rest/v1/rpc/<fn>)
// with the session's token, and turns a failure into an error the workstation knows how to treat.
import type { SupabaseClient } from '@supabase/supabase-js';
import { TransientBackendError } from '../../signing/signingBackend';
import { postgrestError } from './supabaseErrors';

export async function callRpc<T>(
  client: SupabaseClient,
  fn: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  let response: Awaited<ReturnType<SupabaseClient['rpc']>>;
  try {
    response = await client.rpc(fn, args);
  } catch {
    // supabase-js reports network failures as values; anything thrown here is one too.
    throw new TransientBackendError('the Supabase project could not be reached');
  }
  if (response.error) throw postgrestError(response.error, response.status);
  return response.data as T;
}
