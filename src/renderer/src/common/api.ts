// The contract as the renderer sees it. In Electron the preload has put it on window.countersign
// (IPC); in the browser host the same functions are HTTP calls to /api/<channel>, authenticated by
// the host's HttpOnly cookie. Both are typed by the one contract.
import {
  type Channel,
  type ContractEventName,
  type ContractEventPayload,
  type CountersignApi,
  type CountersignEvents,
  channels,
  contractEvents,
} from '../../../shared/contract';
import { reportLinkFailure, reportLinkRestored } from './workstationLink';

declare global {
  interface Window {
    countersign?: CountersignApi;
    countersignEvents?: CountersignEvents;
  }
}

export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly channel: Channel,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function postContractCall(channel: Channel, request: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`/api/${channel}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(request ?? {}),
    });
  } catch {
    const message = `Countersign cannot be reached from this window (${channel} got no answer): is it still running? Start it again and open the link it prints.`;
    reportLinkFailure(message);
    throw new ApiError(channel, 0, message);
  }
  const isJson = (response.headers.get('content-type') ?? '').startsWith('application/json');
  const body: unknown = isJson ? await response.json() : await response.text();
  if (response.status === 401) {
    const message = `This window is no longer authorised (${channel}: 401), for example because Countersign was restarted: open the link (with ?token=) it printed when it started.`;
    reportLinkFailure(message);
    throw new ApiError(channel, 401, message);
  }
  reportLinkRestored();
  if (response.ok) return body;
  const message =
    typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'string'
      ? body.error
      : typeof body === 'string' && body !== ''
        ? body
        : `${channel} failed with HTTP ${response.status}.`;
  throw new ApiError(channel, response.status, message);
}

export function createHttpApi(): CountersignApi {
  return Object.freeze(
    Object.fromEntries(
      channels.map((channel) => [channel, (request: unknown) => postContractCall(channel, request)]),
    ),
  ) as CountersignApi;
}

export const api: CountersignApi = window.countersign ?? createHttpApi();

/** 'electron' or 'browser', for the status bar. */
export const transport: 'electron' | 'browser' = window.countersign ? 'electron' : 'browser';

/**
 * Listens to a pushed event (Electron: the preload's IPC subscription; browser host: Server-Sent
 * Events on /events). Payloads that do not match the event's schema are ignored. Returns unsubscribe.
 */
// One Server-Sent Events stream for the whole page, shared by every subscriber: a browser keeps
// only six connections per host, and each open stream holds one for as long as it lives.
let sharedSource: EventSource | null = null;
let sharedSubscribers = 0;

function eventSource(): EventSource {
  if (sharedSource === null) {
    const source = new EventSource('/events', { withCredentials: true });
    // The stream breaks as soon as the host goes away; the browser retries it by itself.
    source.addEventListener('error', () =>
      reportLinkFailure(
        'Lost the live connection to Countersign (its event stream broke): is it still running? Reconnecting…',
      ),
    );
    source.addEventListener('open', () => reportLinkRestored());
    sharedSource = source;
  }
  sharedSubscribers++;
  return sharedSource;
}

function releaseEventSource(): void {
  sharedSubscribers--;
  if (sharedSubscribers === 0 && sharedSource) {
    sharedSource.close();
    sharedSource = null;
  }
}

export function subscribe<E extends ContractEventName>(
  event: E,
  listener: (payload: ContractEventPayload<E>) => void,
): () => void {
  const deliver = (raw: unknown) => {
    const parsed = contractEvents[event].safeParse(raw);
    if (parsed.success) listener(parsed.data as ContractEventPayload<E>);
  };
  if (window.countersignEvents) return window.countersignEvents.on(event, deliver);
  const source = eventSource();
  const onMessage = (message: MessageEvent<string>) => {
    try {
      deliver(JSON.parse(message.data));
    } catch {
      // not JSON: ignored like any payload that breaks the contract
    }
  };
  source.addEventListener(event, onMessage as EventListener);
  let subscribed = true;
  return () => {
    if (!subscribed) return;
    subscribed = false;
    source.removeEventListener(event, onMessage as EventListener);
    releaseEventSource();
  };
}
