// The main window's options as plain data, so that every security flag can be asserted in a unit
// test without the Electron binary. The shape is a structural subset of Electron's
// BrowserWindowConstructorOptions; src/main/index.ts passes it to `new BrowserWindow` as is.

export interface MainWindowWebPreferences {
  preload: string;
  contextIsolation: true;
  sandbox: true;
  nodeIntegration: false;
  nodeIntegrationInWorker: false;
  nodeIntegrationInSubFrames: false;
  webSecurity: true;
  allowRunningInsecureContent: false;
  webviewTag: false;
  experimentalFeatures: false;
  navigateOnDragDrop: false;
  spellcheck: false;
  safeDialogs: true;
}

export interface MainWindowOptions {
  title: string;
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  show: false;
  backgroundColor: string;
  autoHideMenuBar: boolean;
  webPreferences: MainWindowWebPreferences;
}

/** Matches --cs-surface in the renderer's stylesheet, so the window does not flash while loading. */
export const windowBackgroundColor = '#f5f6f8';

export function mainWindowOptions(preloadPath: string): MainWindowOptions {
  return {
    title: 'Countersign',
    width: 1360,
    height: 860,
    minWidth: 960,
    minHeight: 600,
    // Shown on 'ready-to-show' so the user never sees an empty frame.
    show: false,
    backgroundColor: windowBackgroundColor,
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
    },
  };
}
