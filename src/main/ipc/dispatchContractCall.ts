// The one place where a call crossing the renderer boundary is validated: the Electron IPC handlers
// and the browser host's HTTP API both come through here, so a request is parsed with the same zod
// schema, and a response checked against the same schema, whichever transport carried it.
import type { z } from 'zod';
import { type Channel, type ContractHandlers, contract } from '../../shared/contract';
import { UserFacingError } from '../userFacingError';

export type ContractCallErrorKind =
  /** No such channel in the contract (HTTP 404). */
  | 'unknown-channel'
  /** The request does not match the channel's request schema (HTTP 400). */
  | 'invalid-request'
  /** The service answered something the contract does not allow: a bug on our side (HTTP 500). */
  | 'invalid-response'
  /** The service threw (HTTP 500). */
  | 'handler-failed';

export class ContractCallError extends Error {
  override readonly name = 'ContractCallError';

  constructor(
    readonly kind: ContractCallErrorKind,
    readonly channel: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type ContractCallResult =
  | { ok: true; channel: Channel; response: unknown }
  | { ok: false; error: ContractCallError };

export function isChannel(name: string): name is Channel {
  return Object.hasOwn(contract, name);
}

/** "email: Too small: expected string to have >=3 characters; password: Required" */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      return `${path === '' ? '(request)' : path}: ${issue.message}`;
    })
    .join('; ');
}

export async function dispatchContractCall(
  handlers: ContractHandlers,
  channel: string,
  body: unknown,
): Promise<ContractCallResult> {
  if (!isChannel(channel)) {
    return fail('unknown-channel', channel, `Unknown channel "${channel}".`);
  }
  const schemas = contract[channel];

  const request = schemas.request.safeParse(body);
  if (!request.success) {
    return fail(
      'invalid-request',
      channel,
      `Invalid request for ${channel}: ${describeZodError(request.error)}`,
    );
  }

  // The handler map is indexed by a union of channels, so TypeScript cannot relate the parsed
  // request to the handler's parameter; the schema above is what guarantees that they match.
  const handler = handlers[channel] as (request: unknown) => Promise<unknown>;
  let raw: unknown;
  try {
    raw = await handler(request.data);
  } catch (cause) {
    return fail('handler-failed', channel, `${channel} failed: ${errorMessage(cause)}`, cause);
  }

  const response = schemas.response.safeParse(raw);
  if (!response.success) {
    return fail(
      'invalid-response',
      channel,
      `${channel} returned a response that breaks the contract: ${describeZodError(response.error)}`,
    );
  }
  return { ok: true, channel, response: response.data };
}

function fail(
  kind: ContractCallErrorKind,
  channel: string,
  message: string,
  cause?: unknown,
): ContractCallResult {
  return { ok: false, error: new ContractCallError(kind, channel, message, { cause }) };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * What the renderer may be told. Request errors are the caller's to fix and are shown in full;
 * failures inside the main process are logged there and reported generically, because their
 * details (SQL, file paths, connection strings) do not belong in the renderer.
 */
export function publicErrorMessage(error: ContractCallError): string {
  switch (error.kind) {
    case 'unknown-channel':
    case 'invalid-request':
      return error.message;
    case 'handler-failed':
      if (error.cause instanceof UserFacingError) return error.cause.message;
      return `${error.channel} failed inside Countersign; the details are in the application log.`;
    case 'invalid-response':
      return `${error.channel} failed inside Countersign; the details are in the application log.`;
  }
}

/** For the main-process log: the message and the cause's stack, never the request body. */
export function describeForLog(error: ContractCallError): string {
  const cause = error.cause;
  const detail =
    cause instanceof Error ? (cause.stack ?? cause.message) : cause === undefined ? '' : String(cause);
  return detail === '' ? `[${error.kind}] ${error.message}` : `[${error.kind}] ${error.message}\n${detail}`;
}
