// Whether this window can reach the workstation that serves it. In the browser host every call is
// an HTTP request to 127.0.0.1: when Countersign stops, restarts (a new per-launch token: 401) or the
// event stream breaks, the window must say so at once instead of showing the last status it had.
// The transport reports each failure and each success here; the status bar shows the failure.
import { useSyncExternalStore } from 'react';

export interface LinkFailure {
  /** What failed, for the person: which request and why. */
  message: string;
  at: string;
}

let failure: LinkFailure | null = null;
const listeners = new Set<() => void>();

function publish(next: LinkFailure | null): void {
  if (next === null && failure === null) return;
  failure = next;
  for (const listener of listeners) listener();
}

export function reportLinkFailure(message: string): void {
  publish({ message, at: new Date().toISOString() });
}

export function reportLinkRestored(): void {
  publish(null);
}

export function currentLinkFailure(): LinkFailure | null {
  return failure;
}

function subscribeToLink(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The window's link failure, or null while every request gets through. */
export function useLinkFailure(): LinkFailure | null {
  return useSyncExternalStore(subscribeToLink, currentLinkFailure);
}
