// The queue page's columnar form (StagingQueueColumns in contract.ts): written by the main process
// from row objects, whatever read them (the cache, PostgreSQL, Supabase), and read back into row
// objects by the renderer. Studies, agents, model versions, change summaries, target titles and
// protocol builds go once each, rows refer to them.
import type { BuildRef, QueueRow, StagingQueueColumns } from './contract';

/** Indexes of the distinct values of one field, in order of first appearance. */
class Dictionary<K> {
  readonly values: K[] = [];
  private readonly indexes = new Map<K, number>();

  indexOf(value: K): number {
    let index = this.indexes.get(value);
    if (index === undefined) {
      index = this.values.length;
      this.values.push(value);
      this.indexes.set(value, index);
    }
    return index;
  }
}

export function queueColumnsOf(rows: readonly QueueRow[]): StagingQueueColumns {
  const studies = new Dictionary<string>();
  const studyCodes = new Map<string, string>();
  const agents = new Dictionary<string>();
  const modelVersions = new Dictionary<string>();
  const changeSummaries = new Dictionary<string>();
  const targetTitles = new Dictionary<string>();
  // Builds by id (a row's BuildRef is one of a few objects shared by every row of a build).
  const builds = new Dictionary<string>();
  const buildRefs = new Map<string, BuildRef>();
  const columns: StagingQueueColumns = {
    id: new Array(rows.length),
    state: new Array(rows.length),
    entityKind: new Array(rows.length),
    createdAt: new Array(rows.length),
    study: new Array(rows.length),
    agent: new Array(rows.length),
    modelVersion: new Array(rows.length),
    changeSummary: new Array(rows.length),
    targetTitle: new Array(rows.length),
    build: new Array(rows.length),
    builds: [],
    studies: [],
    agents: agents.values,
    modelVersions: modelVersions.values,
    changeSummaries: changeSummaries.values,
    targetTitles: targetTitles.values,
  };
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as QueueRow;
    columns.id[i] = row.id;
    columns.state[i] = row.state;
    columns.entityKind[i] = row.entityKind;
    columns.createdAt[i] = row.createdAt;
    columns.study[i] = studies.indexOf(row.studyId);
    studyCodes.set(row.studyId, row.studyCode);
    columns.agent[i] = agents.indexOf(row.agentId);
    columns.modelVersion[i] = row.modelVersion === null ? null : modelVersions.indexOf(row.modelVersion);
    columns.changeSummary[i] = row.changeSummary === null ? null : changeSummaries.indexOf(row.changeSummary);
    columns.targetTitle[i] = row.targetTitle === null ? null : targetTitles.indexOf(row.targetTitle);
    const build = row.build;
    if (build === null) columns.build[i] = null;
    else {
      columns.build[i] = builds.indexOf(build.id);
      buildRefs.set(build.id, build);
    }
  }
  columns.studies = studies.values.map((id) => ({ id, code: studyCodes.get(id) as string }));
  columns.builds = builds.values.map((id) => buildRefs.get(id) as BuildRef);
  return columns;
}

/** The rows of a page's columns (the contract has checked that the columns agree and every index is in range). */
export function queueRowsOf(columns: StagingQueueColumns): QueueRow[] {
  const rows: QueueRow[] = new Array(columns.id.length);
  for (let i = 0; i < rows.length; i++) {
    const study = columns.studies[columns.study[i] as number] as { id: string; code: string };
    const modelVersion = columns.modelVersion[i] as number | null;
    const changeSummary = columns.changeSummary[i] ?? null;
    const targetTitle = columns.targetTitle[i] ?? null;
    const build = columns.build[i] ?? null;
    rows[i] = {
      id: columns.id[i] as string,
      state: columns.state[i] as QueueRow['state'],
      entityKind: columns.entityKind[i] as QueueRow['entityKind'],
      studyId: study.id,
      studyCode: study.code,
      agentId: columns.agents[columns.agent[i] as number] as string,
      modelVersion: modelVersion === null ? null : (columns.modelVersions[modelVersion] as string),
      createdAt: columns.createdAt[i] as string,
      changeSummary: changeSummary === null ? null : (columns.changeSummaries[changeSummary] as string),
      targetTitle: targetTitle === null ? null : (columns.targetTitles[targetTitle] as string),
      build: build === null ? null : (columns.builds[build] as BuildRef),
    };
  }
  return rows;
}
