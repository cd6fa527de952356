// Runs in the sandboxed preload: exposes exactly one function per contract channel on
// window.countersign, each a single ipcRenderer.invoke. Nothing raw (no ipcRenderer, no generic
// invoke, no channel name chosen by the page) crosses the context bridge. Bundled into one CommonJS
// file (see electron.vite.config.ts): a sandboxed preload may require nothing but 'electron'.
import { contextBridge, ipcRenderer } from 'electron';
import { type Channel, type CountersignApi, channels } from '../shared/contract';

function invoker(channel: Channel): (request: unknown) => Promise<unknown> {
  return (request) => ipcRenderer.invoke(channel, request);
}

const api = Object.freeze(
  Object.fromEntries(channels.map((channel) => [channel, invoker(channel)])),
) as CountersignApi;

contextBridge.exposeInMainWorld('countersign', api);
