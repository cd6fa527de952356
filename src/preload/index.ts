// Runs in the sandboxed preload: exposes exactly one function per contract channel on
// window.countersign, each a single ipcRenderer.invoke. Nothing raw (no ipcRenderer, no generic
// invoke, no channel name chosen by the page) crosses the context bridge. Bundled into one CommonJS
// file (see electron.vite.config.ts): a sandboxed preload may require nothing but 'electron'.
import { contextBridge, ipcRenderer } from 'electron';
import {
  type Channel,
  type ContractEventName,
  type CountersignApi,
  type CountersignEvents,
  channels,
  contractEventNames,
} from '../shared/contract';

function invoker(channel: Channel): (request: unknown) => Promise<unknown> {
  return (request) => ipcRenderer.invoke(channel, request);
}

const api = Object.freeze(
  Object.fromEntries(channels.map((channel) => [channel, invoker(channel)])),
) as CountersignApi;

contextBridge.exposeInMainWorld('countersign', api);

// Pushed events (contractEvents): a listener per known event name, nothing else; the returned
// function unsubscribes. The renderer validates each payload with the event's schema.
const events: CountersignEvents = Object.freeze({
  on(event: ContractEventName, listener: (payload: unknown) => void): () => void {
    if (!contractEventNames.includes(event)) throw new Error(`Unknown event "${String(event)}".`);
    const handler = (_event: unknown, payload: unknown) => listener(payload);
    ipcRenderer.on(event, handler);
    return () => {
      ipcRenderer.removeListener(event, handler);
    };
  },
});

contextBridge.exposeInMainWorld('countersignEvents', events);
