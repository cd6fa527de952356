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
  const response = await fetch(`/api/${channel}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(request ?? {}),
  });
  const isJson = (response.headers.get('content-type') ?? '').startsWith('application/json');
  const body: unknown = isJson ? await response.json() : await response.text();
  if (response.ok) return body;
  if (response.status === 401) {
    throw new ApiError(
      channel,
      401,
      'This browser tab is not authorised: open the link (with ?token=) printed when Countersign started.',
    );
  }
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
  sharedSource ??= new EventSource('/events', { withCredentials: true });
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
