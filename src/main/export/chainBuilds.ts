// Which protocol build each value belongs to, as the audit chain alone says it (issue 20): the
// chain records every build's transitions (study_build.transition, with its completed_sequence), and
// since migration 0054 the diary.event, staging.proposed and staging.revised entries name the build
// a value was written under. Two rules fill the gaps, both the server's:
//  - an entry written before build tracking names no build: migration 0054 assigned its value to the
//    study's first completed build (completed_sequence 1), so that is the build it stands for;
//  - an annotation entry from before 0054 named no build: it was written under the study's current
//    build, i.e. the one whose completion is the last one before it in the chain (from 0054 the
//    diary.annotation entry names its build).
// packetContent uses this to give each signature its build; verifyPacket to check every value's.

export interface ChainBuildCompletion {
  seq: number;
  buildId: string;
  completedSequence: number;
}

export class ChainBuilds {
  /** Per study, its builds' completions in chain order. */
  private readonly completions = new Map<string, ChainBuildCompletion[]>();

  /** Feed every chain entry, in seq order. */
  observe(seq: number, eventType: string, payload: Record<string, unknown>): void {
    if (eventType !== 'study_build.transition' || payload.to_status !== 'COMPLETED') return;
    if (typeof payload.study_id !== 'string' || typeof payload.build_id !== 'string') return;
    const list = this.completions.get(payload.study_id) ?? [];
    list.push({ seq, buildId: payload.build_id, completedSequence: Number(payload.completed_sequence) });
    this.completions.set(payload.study_id, list);
  }

  /** The study's first completed build: what a value from before build tracking was assigned. */
  firstCompleted(studyId: string | null): string | null {
    if (studyId === null) return null;
    const list = this.completions.get(studyId) ?? [];
    return list.find((c) => c.completedSequence === 1)?.buildId ?? list[0]?.buildId ?? null;
  }

  /** The study's current build just before the entry at `seq` (else the backfill's first build). */
  currentAt(studyId: string | null, seq: number): string | null {
    if (studyId === null) return null;
    let current: string | null = null;
    for (const c of this.completions.get(studyId) ?? []) if (c.seq < seq) current = c.buildId;
    return current ?? this.firstCompleted(studyId);
  }

  /** The build an entry's payload stands for: the one it names, or for an older entry the backfill's. */
  namedBy(payload: Record<string, unknown>, studyId: string | null): string | null {
    if (Object.hasOwn(payload, 'build_id'))
      return typeof payload.build_id === 'string' ? payload.build_id : null;
    return this.firstCompleted(studyId);
  }
}
