// The typed contract between the renderer and the main process: one entry per channel, each with a
// zod schema for its request and its response. The preload exposes exactly these channels, the
// Electron IPC handlers and the browser host both parse every request (and every response) with
// them, and nothing else crosses the boundary.
import { z } from 'zod';
import { appRoles, backendModes, entityKinds, stagingStates } from './domain';

const isoTimestamp = z.string().min(1).max(64);
const uuid = z.uuid();

export const DemoUser = z.object({
  email: z.string(),
  password: z.string(),
  printedName: z.string(),
  roles: z.array(z.string()),
  hasTotp: z.boolean(),
});

export const BackendStatus = z.object({
  mode: z.enum(backendModes),
  state: z.enum(['starting', 'ready', 'error']),
  /** One line a person can act on: what is running, or what went wrong and what to do. */
  message: z.string(),
  serverVersion: z.string().nullable(),
  /** Name of the newest applied migration file. */
  schemaVersion: z.string().nullable(),
  /** Only in the embedded demo: who can sign in. */
  demoUsers: z.array(DemoUser),
  session: z
    .object({
      userId: uuid,
      email: z.string(),
      printedName: z.string(),
      roles: z.array(z.enum(appRoles)),
    })
    .nullable(),
});
export type BackendStatus = z.infer<typeof BackendStatus>;

export const SignInRequest = z.object({
  email: z.string().trim().min(3).max(254),
  password: z.string().min(1).max(1024),
});

export const SignInResponse = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), status: BackendStatus }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

export const StagingQueueCursor = z.object({ createdAt: isoTimestamp, id: uuid });

export const StagingQueueRequest = z.object({
  limit: z.number().int().min(1).max(5000).default(500),
  after: StagingQueueCursor.nullable().default(null),
  states: z.array(z.enum(stagingStates)).max(stagingStates.length).default([]),
  studyId: uuid.nullable().default(null),
});

export const StagingQueueRow = z.object({
  id: uuid,
  state: z.enum(stagingStates),
  entityKind: z.enum(entityKinds),
  entityId: uuid.nullable(),
  studyId: uuid,
  studyCode: z.string(),
  agentId: z.string(),
  modelVersion: z.string().nullable(),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
});
export type StagingQueueRow = z.infer<typeof StagingQueueRow>;

export const StagingQueuePage = z.object({
  rows: z.array(StagingQueueRow),
  nextCursor: StagingQueueCursor.nullable(),
  countsByState: z.record(z.enum(stagingStates), z.number().int().nonnegative()),
});

const Empty = z.object({}).strict();

export const contract = {
  'backend.status': { request: Empty, response: BackendStatus },
  'session.signIn': { request: SignInRequest, response: SignInResponse },
  'session.signOut': { request: Empty, response: BackendStatus },
  'staging.queue': { request: StagingQueueRequest, response: StagingQueuePage },
} as const;

export type Contract = typeof contract;
export type Channel = keyof Contract;
export type RequestOf<C extends Channel> = z.input<Contract[C]['request']>;
export type ParsedRequestOf<C extends Channel> = z.output<Contract[C]['request']>;
export type ResponseOf<C extends Channel> = z.output<Contract[C]['response']>;

export const channels = Object.keys(contract) as Channel[];

/** What the preload exposes on `window.countersign` (and the browser host's client mirrors). */
export type CountersignApi = { [C in Channel]: (request: RequestOf<C>) => Promise<ResponseOf<C>> };

/** The main-process side: one service method per channel, called with an already parsed request. */
export type ContractHandlers = { [C in Channel]: (request: ParsedRequestOf<C>) => Promise<ResponseOf<C>> };
