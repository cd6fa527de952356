// What the Electron shell allows a web page to do, as plain functions over URLs and frame facts, so
// that every rule is unit-tested without the Electron binary (src/main/index.ts only wires them to
// Electron's events). The renderer is one document: it may not navigate anywhere, open windows,
// attach <webview>s or be granted any permission, and only its own top frame may call the contract.

/** Same document as the renderer entry (protocol, host, path), ignoring query and fragment. */
export function isRendererUrl(url: string, rendererUrl: string): boolean {
  try {
    const candidate = new URL(url);
    const expected = new URL(rendererUrl);
    return (
      candidate.protocol === expected.protocol &&
      candidate.host === expected.host &&
      candidate.pathname === expected.pathname
    );
  } catch {
    return false;
  }
}

/** will-navigate: nothing may replace the renderer document (a reload of the same URL aside). */
export function navigationAllowed(targetUrl: string, currentUrl: string): boolean {
  return targetUrl === currentUrl;
}

/** will-redirect: only back to the renderer document itself. */
export function redirectAllowed(targetUrl: string, rendererUrl: string): boolean {
  return isRendererUrl(targetUrl, rendererUrl);
}

/** setWindowOpenHandler: no new windows, ever (links to elsewhere are not offered by the UI). */
export const windowOpenDecision = { action: 'deny' } as const;

/** Permission requests and checks (camera, microphone, notifications, clipboard, USB, …): all refused. */
export function permissionGranted(_permission: string): false {
  return false;
}

export interface SenderFacts {
  /** The IPC sender's webContents id, and the main window's (null when there is no window). */
  senderId: number;
  windowId: number | null;
  /** The sending frame's URL and whether it is the top frame; frame null when it is gone. */
  frame: { url: string; isTop: boolean } | null;
}

/** Every contract call must come from the main window's top frame showing the renderer document. */
export function isTrustedSender(facts: SenderFacts, rendererUrl: string): boolean {
  return (
    facts.windowId !== null &&
    facts.senderId === facts.windowId &&
    facts.frame?.isTop === true &&
    isRendererUrl(facts.frame.url, rendererUrl)
  );
}
