// Protocol builds in hosted mode (issue 20), which has no cache: cro.study_database_build and the
// build_id of staging records and the content-hash version of signatures (migration 0054), read
// through PostgREST's keyset reader (the `cro` schema exposed, docs/backend-modes.md step 2), with
// the person's token, so RLS decides as in the direct modes. staging_queue and signing_subjects
// carry each record's build since 0054; staging_detail (0031) does not, so where an answer lacks
// `buildId` / `build_id` it is read here.
import type { SupabaseClient } from '@supabase/supabase-js';
import type { BuildRef, StudyBuild } from '../../../shared/contract';
import { type BuildRefRow, buildRefsOf, studyBuildsOf } from '../../builds/studyBuilds';
import { type ContentHashVersion, contentHashVersionOf } from '../../signing/contentHash';
import { TransientBackendError } from '../../signing/signingBackend';
import { UserFacingError } from '../../userFacingError';
import { postgrestError } from './supabaseErrors';

/** Ids per `id=in.(…)` filter: about 9 KB of URL each. */
const idsPerRequest = 240;

type Query = PromiseLike<{ data: unknown; error: { code?: string; message: string } | null; status: number }>;

async function rows<Row>(query: Query): Promise<Row[]> {
  let response: Awaited<Query>;
  try {
    response = await query;
  } catch {
    throw new TransientBackendError('the Supabase project could not be reached');
  }
  if (response.error) {
    if (response.error.code === 'PGRST106') {
      throw new UserFacingError(
        'The Supabase project does not expose the cro schema, where protocol builds are read: add it under Project Settings → API → Exposed schemas (docs/backend-modes.md, "Hosted mode").',
      );
    }
    throw postgrestError(response.error, response.status);
  }
  return (response.data ?? []) as Row[];
}

/** Every build the person may read, as values name them (a few per study). */
export async function hostedBuildRefs(client: SupabaseClient): Promise<Map<string, BuildRef>> {
  return buildRefsOf(
    await rows<BuildRefRow>(
      client
        .schema('cro')
        .from('study_database_build')
        .select('id,study_id,build_number,build_version,completed_sequence'),
    ),
  );
}

/** The build each of these rows (staging records, provenance events) was written under, by id. */
export async function hostedBuildIds(
  client: SupabaseClient,
  table: 'staging_record' | 'provenance_event',
  ids: readonly string[],
): Promise<Map<string, string | null>> {
  const buildIds = new Map<string, string | null>();
  for (let start = 0; start < ids.length; start += idsPerRequest) {
    const chunk = ids.slice(start, start + idsPerRequest);
    for (const row of await rows<{ id: string; build_id: string | null }>(
      client.schema('cro').from(table).select('id,build_id').in('id', chunk),
    )) {
      buildIds.set(row.id, row.build_id);
    }
  }
  return buildIds;
}

/** The content-hash version of each signature of a staging record, by signature id. */
export async function hostedSignatureVersions(
  client: SupabaseClient,
  stagingId: string,
): Promise<Map<string, ContentHashVersion>> {
  const found = await rows<{ id: string; content_hash_version: unknown }>(
    client
      .schema('cro')
      .from('signature_event')
      .select('id,content_hash_version')
      .eq('subject_kind', 'staging_record')
      .eq('subject_id', stagingId),
  );
  return new Map(found.map((row) => [row.id, contentHashVersionOf(row.content_hash_version)]));
}

/** A study's builds (every study's when null) with their configuration, for the build panel. */
export async function hostedStudyBuilds(
  client: SupabaseClient,
  studyId: string | null,
): Promise<StudyBuild[]> {
  const builds = client.schema('cro').from('study_database_build').select('*');
  const [buildRows, studies] = await Promise.all([
    rows<Record<string, unknown>>(studyId === null ? builds : builds.eq('study_id', studyId)),
    rows<{ id: string; code: string }>(client.schema('cro').from('study').select('id,code')),
  ]);
  const codes = new Map(studies.map((study) => [study.id, study.code]));
  return studyBuildsOf(
    buildRows.map(({ sync_xid: _bookkeeping, ...doc }) => ({
      doc,
      studyCode: codes.get(String(doc.study_id)) ?? null,
    })),
  );
}
