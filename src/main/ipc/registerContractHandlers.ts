// Electron IPC for the contract: one ipcMain.handle per channel, each refusing senders that are not
// our own window, then validating through dispatchContractCall. Written against a minimal ipcMain
// shape (no 'electron' import) so that it is unit-tested with a fake.
import { type Channel, type ContractHandlers, channels } from '../../shared/contract';
import { describeForLog, dispatchContractCall, publicErrorMessage } from './dispatchContractCall';

export interface IpcMainLike<Event> {
  handle(channel: string, listener: (event: Event, ...args: unknown[]) => Promise<unknown>): void;
}

export interface RegisterContractHandlersOptions {
  log?: (line: string) => void;
}

export function registerContractHandlers<Event>(
  ipcMain: IpcMainLike<Event>,
  handlers: ContractHandlers,
  isTrustedSender: (event: Event) => boolean,
  options: RegisterContractHandlersOptions = {},
): Channel[] {
  const log = options.log ?? ((line: string) => console.error(line));
  for (const channel of channels) {
    ipcMain.handle(channel, async (event, ...args) => {
      if (!isTrustedSender(event)) {
        log(`countersign ipc: refused ${channel} from an untrusted sender`);
        throw new Error(`Refused ${channel}: the request did not come from the Countersign window.`);
      }
      if (args.length > 1) {
        throw new Error(`Invalid request for ${channel}: expected one request object, got ${args.length}.`);
      }
      const result = await dispatchContractCall(handlers, channel, args[0]);
      if (result.ok) return result.response;
      if (result.error.kind === 'handler-failed' || result.error.kind === 'invalid-response') {
        log(`countersign ipc: ${describeForLog(result.error)}`);
      }
      throw new Error(publicErrorMessage(result.error));
    });
  }
  return [...channels];
}
