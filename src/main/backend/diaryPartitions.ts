// The diary event store is partitioned by UTC month (migration 0060): a month without a partition
// refuses diary events (CS503). The operator makes the coming months' partitions ahead of time: the
// embedded backend at every start, an on-premises or hosted deployment on a monthly schedule
// (docs/diary-roles.md, "The event store, partitioned by month").
import type { ClientBase } from 'pg';

/** Months ahead of the current one that the embedded backend keeps partitioned. */
export const diaryPartitionMonthsAhead = 12;

/**
 * Makes the missing partitions of diary.record_audit from the current month through `monthsAhead`
 * months after it, on an operator connection (the database owner). Returns the names it made.
 */
export async function ensureDiaryPartitions(
  operator: ClientBase,
  monthsAhead = diaryPartitionMonthsAhead,
): Promise<string[]> {
  const { rows } = await operator.query<{ made: string[] }>(
    'select cs_private.ensure_record_audit_partitions($1) as made',
    [monthsAhead],
  );
  return rows[0]?.made ?? [];
}
