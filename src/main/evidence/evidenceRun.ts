// A validation evidence run (issue 8) on the backend: recorded by an administrator, then signed by
// a signer through the Part 11 ceremony (intent approve_release, migration 0040). Direct modes only
// (embedded, postgres): the password is proved by a fresh login and the code by the server, exactly
// as for staging records (PostgresSigningBackend.reauthenticate).
import { randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { canonicalJson } from '../../shared/canonicalJson';
import { connectAsPerson, type ServerAddress } from '../backend/postgres/personConnection';
import { PostgresSession, wrongCredentials } from '../backend/postgres/postgresSession';
import { isTransient, userFacingServerError } from '../backend/postgres/postgresSigning';
import { sha256Hex } from '../signing/contentHash';
import { UserFacingError } from '../userFacingError';

export interface EvidenceRun {
  id: string;
  commitSha: string;
  prNumber: number | null;
  evidencePaths: unknown;
  manifestSha256: string | null;
  createdBy: string;
  signedByUserId: string | null;
  signedAt: string | null;
}

/** What a release signature signs, as cs_private.evidence_run_content builds it (no timestamps). */
export function evidenceRunContent(run: EvidenceRun): Record<string, unknown> {
  return {
    evidence_run_id: run.id,
    commit_sha: run.commitSha,
    pr_number: run.prNumber,
    evidence_paths: run.evidencePaths,
    manifest_sha256: run.manifestSha256,
    created_by: run.createdBy,
  };
}

export function evidenceRunContentHash(run: EvidenceRun): string {
  return sha256Hex(canonicalJson(evidenceRunContent(run)));
}

const runColumns = `id, commit_sha, pr_number, evidence_paths::text as evidence_paths, manifest_sha256, created_by,
  signed_by_user_id, to_char(signed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as signed_at`;

interface RunRow {
  id: string;
  commit_sha: string;
  pr_number: number | null;
  evidence_paths: string;
  manifest_sha256: string | null;
  created_by: string;
  signed_by_user_id: string | null;
  signed_at: string | null;
}

function fromRow(row: RunRow): EvidenceRun {
  return {
    id: row.id,
    commitSha: row.commit_sha,
    prNumber: row.pr_number,
    evidencePaths: JSON.parse(row.evidence_paths),
    manifestSha256: row.manifest_sha256,
    createdBy: row.created_by,
    signedByUserId: row.signed_by_user_id,
    signedAt: row.signed_at,
  };
}

/** A connection as the person themselves: RLS decides what they may read and write. */
export async function connectAs(address: ServerAddress, email: string, password: string): Promise<pg.Client> {
  try {
    return await connectAsPerson(address, email, password, 'countersign-evidence');
  } catch (error) {
    if ((error as { code?: string }).code === '28P01') throw new UserFacingError(wrongCredentials);
    throw error;
  }
}

export interface RecordEvidenceRunInput {
  commitSha: string;
  evidencePaths: string[];
  manifestSha256: string;
  prNumber?: number | null;
}

/** Inserts the run as the caller (RLS: administrators only, migration 0040). */
export async function recordEvidenceRun(
  client: pg.Client,
  input: RecordEvidenceRunInput,
): Promise<EvidenceRun> {
  try {
    const { rows } = await client.query<RunRow>(
      `insert into cro.validation_evidence_run (commit_sha, pr_number, evidence_paths, manifest_sha256, created_by)
       values ($1, $2, $3::jsonb, $4, auth.uid()) returning ${runColumns}`,
      [input.commitSha, input.prNumber ?? null, JSON.stringify(input.evidencePaths), input.manifestSha256],
    );
    return fromRow(rows[0] as RunRow);
  } catch (error) {
    if ((error as { code?: string }).code === '42501') {
      throw new UserFacingError('Only an administrator can record a validation evidence run.');
    }
    throw userFacingServerError(error);
  }
}

export async function readEvidenceRun(client: pg.Client, id: string): Promise<EvidenceRun | null> {
  const { rows } = await client.query<RunRow>(
    `select ${runColumns} from cro.validation_evidence_run where id = $1`,
    [id],
  );
  return rows[0] ? fromRow(rows[0]) : null;
}

export interface SignEvidenceRunRequest {
  address: ServerAddress;
  email: string;
  password: string;
  totpCode: string;
  evidenceRunId: string;
  meaning: string;
  comment?: string | null;
  /** Given by tests to resend a ceremony or replay a nonce; new for every ceremony otherwise. */
  ceremonyId?: string;
  nonce?: string;
}

export interface SignedEvidenceRun {
  ceremonyId: string;
  nonce: string;
  signatureId: string;
  contentHash: string;
  signedAt: string;
  reAuthAt: string;
  signer: { userId: string; printedName: string };
  replayed: boolean;
}

/**
 * One ceremony: read the run as the signer, hash what is signed, re-authenticate (password by a fresh
 * login, code by the server), then sign_release on a fresh login, which recomputes the hash itself.
 */
export async function signEvidenceRun(request: SignEvidenceRunRequest): Promise<SignedEvidenceRun> {
  const ceremonyId = request.ceremonyId ?? randomUUID();
  const nonce = request.nonce ?? randomBytes(24).toString('base64url');
  const session = await PostgresSession.signIn(request.address, request.email, request.password);
  let client: pg.Client | null = null;
  try {
    client = await connectAs(request.address, request.email, request.password);
    const run = await readEvidenceRun(client, request.evidenceRunId);
    if (!run)
      throw new UserFacingError(
        `validation evidence run ${request.evidenceRunId} does not exist or you may not read it`,
      );
    const contentHash = evidenceRunContentHash(run);
    const reauth = await session
      .signingBackend()
      .reauthenticate(ceremonyId, request.password, request.totpCode);
    if (!reauth.ok) {
      const left = reauth.attemptsLeft === null ? '' : ` (${reauth.attemptsLeft} attempts left)`;
      throw new UserFacingError(
        `re-authentication failed: ${reauth.reason}${reauth.locked ? ', signing is locked' : left}`,
      );
    }
    const { rows } = await client.query<{
      r: {
        ceremony_id: string;
        signature_id: string;
        content_hash: string;
        signed_at: string;
        re_auth_at: string;
        signer: { user_id: string; printed_name: string };
        replayed: boolean;
      };
    }>('select public.sign_release($1, $2, $3, $4, $5, $6) as r', [
      ceremonyId,
      nonce,
      request.meaning,
      request.comment ?? null,
      run.id,
      contentHash,
    ]);
    const r = rows[0]?.r;
    if (!r) throw new Error('sign_release returned nothing');
    return {
      ceremonyId: r.ceremony_id,
      nonce,
      signatureId: r.signature_id,
      contentHash: r.content_hash,
      signedAt: r.signed_at,
      reAuthAt: r.re_auth_at,
      signer: { userId: r.signer.user_id, printedName: r.signer.printed_name },
      replayed: r.replayed,
    };
  } catch (error) {
    if (error instanceof UserFacingError) throw error;
    if (isTransient(error)) throw new UserFacingError('the connection to the server was lost; sign again');
    throw userFacingServerError(error);
  } finally {
    await client?.end().catch(() => undefined);
    await session.close();
  }
}
