// Offline means offline (ARCHITECTURE): while the person works offline, or the backend cannot be
// reached, no request that needs the server is sent; it is refused with a message that says so.
// And the other way round: a request that fails because the connection is gone tells the sync at
// once, so that the status bar says "Offline" within the second instead of at the next sync.
import type { Channel, ContractHandlers } from '../shared/contract';
import { isConnectionError } from './sync/serverReader';
import { UserFacingError } from './userFacingError';

/** The channels that need the server, and what the person was doing, for the refusal. */
export const serverChannels = {
  'staging.openForReview': 'Opening records for review',
  'staging.promote': 'Promotion',
  'signing.status': 'Signing',
  'signing.meanings': 'Signing',
  'signing.manifest': 'Signing',
  'signing.sign': 'Signing',
  'totp.beginEnrolment': 'Setting up an authenticator',
  'totp.confirmEnrolment': 'Setting up an authenticator',
  'recovery.status': 'Reading your recovery codes',
  'recovery.generate': 'Generating recovery codes',
  'session.changePassword': 'Changing your password',
  'admin.alerts': 'Reading the security alerts',
  'admin.reviewAlert': 'Reviewing a security alert',
  'admin.unlock': 'Unlocking an account',
  'admin.people': 'Reading the people',
  'admin.roleRequests': 'Reading the role-change requests',
  'admin.requestRoleChange': 'Requesting a role change',
  'admin.decideRoleChange': 'Deciding a role change',
  'admin.deactivate': 'Deactivating an account',
  'admin.assignSite': 'Assigning a site',
  'admin.unassignSite': 'Unassigning a site',
  'admin.requirePasswordChange': 'Requiring a password change',
  'diary.resolveConflict': 'Resolving a diary conflict',
  'diary.correct': 'Correcting a diary entry',
  'diary.reviewCorrection': 'Reviewing a correction',
} as const satisfies Partial<Record<Channel, string>>;

export interface ConnectionState {
  /** The person chose *Work offline*. */
  workOffline(): boolean;
  /** A cache is open and its connection to the backend is lost (not hosted mode, which has none). */
  connectionLost(): boolean;
  /** Tries to reconnect once (a sync run); resolves whether the backend answers again. */
  reconnect(): Promise<boolean>;
  /** A request failed for want of a connection: the status flips to offline now. */
  noteConnectionLost(error: unknown): void;
}

export const workingOfflineMessage = (what: string) =>
  `You are working offline: ${what.toLowerCase()} needs the server, and nothing was sent. Go online and try again.`;

export const unreachableMessage = (what: string) =>
  `The backend cannot be reached: ${what.toLowerCase()} needs the server, and nothing was sent. Countersign reconnects by itself; try again when the status bar says Online.`;

// The session's own connection does not come back by itself (the sync's does): say how to recover.
export const connectionLostMessage = (what: string) =>
  `The connection to the backend was lost during ${what.toLowerCase()}: look at the records after the next sync before you try again. Once the status bar says Online, sign out and in again to reconnect this session.`;

/** The handlers, with every server channel refused offline and every lost connection reported. */
export function guardServerWrites(handlers: ContractHandlers, state: ConnectionState): ContractHandlers {
  const guarded = { ...handlers } as Record<Channel, (request: never) => Promise<unknown>>;
  for (const [channel, what] of Object.entries(serverChannels) as [keyof typeof serverChannels, string][]) {
    const handler = handlers[channel] as (request: never) => Promise<unknown>;
    guarded[channel] = async (request: never) => {
      if (state.workOffline()) throw new UserFacingError(workingOfflineMessage(what));
      if (state.connectionLost() && !(await state.reconnect())) {
        throw new UserFacingError(unreachableMessage(what));
      }
      try {
        return await handler(request);
      } catch (error) {
        if (!isConnectionError(error)) throw error;
        state.noteConnectionLost(error);
        throw new UserFacingError(connectionLostMessage(what), { cause: error });
      }
    };
  }
  return guarded as ContractHandlers;
}
