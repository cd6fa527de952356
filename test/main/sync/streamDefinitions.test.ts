// The streams' row schemas are compiled ahead of time (z.compile): they must accept and refuse
// exactly what the same schema walked at run time does, with the same issues (the quarantine
// report is built from them).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { streamDefinitions, streamNamed } from '../../../src/main/sync/streamDefinitions';

const uuid = '3f0c9a2e-8b1d-4c6e-9f7a-2d5b8e1c0a93';
const at = '2026-11-21T09:30:00.123456Z';

const stagingRow = {
  sync_xid: '1234',
  id: uuid,
  entity_kind: 'study_risk',
  entity_id: null,
  study_id: uuid,
  agent_id: 'agent:monitor',
  model_version_id: null,
  provenance_id: uuid,
  state: 'proposed',
  proposed_state: '{"title":"Risk"}',
  created_at: at,
  updated_at: at,
  created_by: uuid,
  build_id: uuid,
};

/** The same shape, walked at run time (the compiled clone shares its children). */
const runtimeOf = (schema: z.ZodType) => z.object((schema as unknown as z.ZodObject).shape);

const hostile: unknown[] = [
  null,
  undefined,
  42,
  'row',
  [],
  {},
  Object.create(null),
  { __proto__: { id: uuid } },
  stagingRow,
  { ...stagingRow, id: 'not-a-uuid', state: 'approved' },
  { ...stagingRow, proposed_state: '["an array"]', created_at: '2026-11-21 09:30:00' },
  { ...stagingRow, entity_id: 7, agent_id: null, study_id: undefined },
  { ...stagingRow, id: `${uuid}\n`, updated_at: `${at}\u202e` },
];

describe('stream row schemas', () => {
  it.each(streamDefinitions.map((stream) => [stream.name, stream] as const))(
    '%s: the compiled schema accepts and refuses as the run-time one, with the same issues [SYNC-QUARANTINE]',
    (_name, stream) => {
      const runtime = runtimeOf(stream.schema);
      // Compiled indeed: zod keeps the run-time parser as the fallback of a compiled schema only.
      expect((stream.schema as unknown as { _zod: { bag: object } })._zod.bag).toHaveProperty('fallbackRun');
      const allNull = Object.fromEntries(Object.keys(runtime.shape).map((key) => [key, null]));
      const allNumbers = Object.fromEntries(Object.keys(runtime.shape).map((key) => [key, 1]));
      for (const input of [...hostile, allNull, allNumbers]) {
        const compiled = stream.schema.safeParse(input);
        const walked = runtime.safeParse(input);
        expect(compiled.success).toBe(walked.success);
        expect(compiled.error?.issues).toEqual(walked.error?.issues);
        expect(compiled.data).toEqual(walked.data);
      }
    },
  );

  it('accepts a well-formed staging row and refuses each malformed field by name [SYNC-QUARANTINE]', () => {
    const schema = streamNamed('staging_record').schema;
    expect(schema.safeParse(stagingRow).success).toBe(true);
    const refused = schema.safeParse({ ...stagingRow, id: 'not-a-uuid', state: 'approved' });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['id', 'state']);
  });

  it('takes every value with the build the server wrote it under, and a build row as the server has it [BUILD-SYNC]', () => {
    // A proposal without its build is not a row of a migrated server (0054): quarantined, never cached as "no build".
    const { build_id: _, ...withoutBuild } = stagingRow;
    expect(streamNamed('staging_record').schema.safeParse(withoutBuild).success).toBe(false);
    expect(streamNamed('staging_record').params(stagingRow, '7')).toContain(uuid);
    for (const name of ['record_state', 'record_audit', 'annotation']) {
      expect(streamNamed(name).selectList, name).toMatch(/\bt\.build_id\b/);
    }
    // Provenance without a study has no build.
    expect(streamNamed('provenance_event').selectList).toMatch(/\bt\.build_id\b/);
    const build = streamNamed('study_build');
    const row = {
      sync_xid: '99',
      id: uuid,
      study_id: uuid,
      build_number: 'B2',
      build_version: '2.0',
      build_status: 'FAILED',
      build_type: 'AMENDMENT',
      completed_sequence: null,
      doc: '{"id":"x","error_log":[]}',
    };
    expect(build.schema.safeParse(row).success).toBe(true);
    const refused = build.schema.safeParse({
      ...row,
      build_status: 'DONE',
      completed_sequence: 0,
      doc: '[]',
    });
    expect(refused.error?.issues.map((issue) => issue.path.join('.'))).toEqual([
      'build_status',
      'completed_sequence',
      'doc',
    ]);
    expect(build.params(row, '99')).toEqual([
      uuid,
      uuid,
      'B2',
      '2.0',
      'FAILED',
      'AMENDMENT',
      null,
      row.doc,
      '99',
    ]);
  });
});
