import { describe, expect, it } from 'vitest';
import { mainWindowOptions } from '../../src/main/windowOptions';

describe('mainWindowOptions [ELECTRON-WINDOW]', () => {
  const options = mainWindowOptions('/app/out/preload/index.cjs');
  const web = options.webPreferences;

  it('loads the given preload script', () => {
    expect(web.preload).toBe('/app/out/preload/index.cjs');
  });

  it('isolates the renderer: context isolation and the OS sandbox are on', () => {
    expect(web.contextIsolation).toBe(true);
    expect(web.sandbox).toBe(true);
  });

  it('gives the renderer no Node.js, in the page, workers or subframes', () => {
    expect(web.nodeIntegration).toBe(false);
    expect(web.nodeIntegrationInWorker).toBe(false);
    expect(web.nodeIntegrationInSubFrames).toBe(false);
  });

  it('keeps web security on and refuses insecure content', () => {
    expect(web.webSecurity).toBe(true);
    expect(web.allowRunningInsecureContent).toBe(false);
  });

  it('disables <webview>, experimental features, drag-and-drop navigation and the spellchecker', () => {
    expect(web.webviewTag).toBe(false);
    expect(web.experimentalFeatures).toBe(false);
    expect(web.navigateOnDragDrop).toBe(false);
    expect(web.spellcheck).toBe(false);
  });

  it('stays hidden until ready to show, with a background colour and a usable minimum size', () => {
    expect(options.show).toBe(false);
    expect(options.backgroundColor).toMatch(/^#[0-9a-f]{6}$/i);
    expect(options.minWidth).toBeGreaterThanOrEqual(800);
    expect(options.minHeight).toBeGreaterThanOrEqual(500);
    expect(options.width).toBeGreaterThanOrEqual(options.minWidth);
    expect(options.height).toBeGreaterThanOrEqual(options.minHeight);
  });
});
