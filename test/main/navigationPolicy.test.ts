import { describe, expect, it } from 'vitest';
import {
  isRendererUrl,
  isTrustedSender,
  navigationAllowed,
  permissionGranted,
  redirectAllowed,
  windowOpenDecision,
} from '../../src/main/navigationPolicy';

const renderer = 'file:///opt/Countersign/resources/app/out/renderer/index.html';

describe('Electron navigation, window and permission rules [ELECTRON-WINDOW]', () => {
  it('recognises the renderer document, with any fragment or query, and nothing else', () => {
    expect(isRendererUrl(`${renderer}#/queue`, renderer)).toBe(true);
    expect(isRendererUrl(`${renderer}?x=1`, renderer)).toBe(true);
    expect(isRendererUrl('file:///opt/Countersign/resources/app/out/renderer/other.html', renderer)).toBe(
      false,
    );
    expect(isRendererUrl('https://evil.example/index.html', renderer)).toBe(false);
    expect(isRendererUrl('http://localhost:5173/', 'http://localhost:5173/')).toBe(true);
    expect(isRendererUrl('http://localhost:5174/', 'http://localhost:5173/')).toBe(false);
    expect(isRendererUrl('not a url', renderer)).toBe(false);
  });

  it('refuses every navigation away from the current document', () => {
    expect(navigationAllowed(renderer, renderer)).toBe(true);
    expect(navigationAllowed('https://evil.example/', renderer)).toBe(false);
    expect(navigationAllowed('file:///etc/passwd', renderer)).toBe(false);
    expect(navigationAllowed('javascript:alert(1)', renderer)).toBe(false);
  });

  it('allows a redirect only back to the renderer document', () => {
    expect(redirectAllowed(`${renderer}#x`, renderer)).toBe(true);
    expect(redirectAllowed('https://evil.example/', renderer)).toBe(false);
  });

  it('denies new windows and every permission', () => {
    expect(windowOpenDecision).toEqual({ action: 'deny' });
    for (const permission of [
      'media',
      'notifications',
      'geolocation',
      'clipboard-read',
      'usb',
      'openExternal',
    ]) {
      expect(permissionGranted(permission)).toBe(false);
    }
  });

  it('accepts contract calls only from the main window top frame showing the renderer', () => {
    const top = { url: `${renderer}#/queue`, isTop: true };
    expect(isTrustedSender({ senderId: 3, windowId: 3, frame: top }, renderer)).toBe(true);
    expect(isTrustedSender({ senderId: 4, windowId: 3, frame: top }, renderer)).toBe(false);
    expect(isTrustedSender({ senderId: 3, windowId: null, frame: top }, renderer)).toBe(false);
    expect(isTrustedSender({ senderId: 3, windowId: 3, frame: null }, renderer)).toBe(false);
    expect(isTrustedSender({ senderId: 3, windowId: 3, frame: { ...top, isTop: false } }, renderer)).toBe(
      false,
    );
    expect(
      isTrustedSender(
        { senderId: 3, windowId: 3, frame: { url: 'https://evil.example/', isTop: true } },
        renderer,
      ),
    ).toBe(false);
  });
});
