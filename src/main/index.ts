// The Electron app: one sandboxed, context-isolated window over the contract handlers. Together with
// the preload this is the only code that imports 'electron'; everything it configures for security
// is data or plain functions from windowOptions.ts, contentSecurityPolicy.ts and navigationPolicy.ts,
// tested without Electron.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, type IpcMainInvokeEvent, ipcMain, safeStorage, session } from 'electron';
import { SafeStorageCacheKeyStore } from './cache/safeStorageKeyStore';
import { contentSecurityPolicy } from './contentSecurityPolicy';
import { registerContractHandlers } from './ipc/registerContractHandlers';
import {
  isTrustedSender,
  navigationAllowed,
  permissionGranted,
  redirectAllowed,
  windowOpenDecision,
} from './navigationPolicy';
import { mainWindowOptions } from './windowOptions';
import { createWorkstation, type Workstation } from './workstation';

const preloadPath = join(import.meta.dirname, '../preload/index.cjs');
const rendererIndexPath = join(import.meta.dirname, '../renderer/index.html');
// electron-vite dev serves the renderer over http and says where; a packaged app loads the file.
const devRendererUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
const rendererUrl = devRendererUrl ?? pathToFileURL(rendererIndexPath).href;

let mainWindow: BrowserWindow | null = null;
let workstation: Workstation | null = null;
let closedWorkstation = false;

function log(line: string): void {
  console.log(line);
}

function trustedSender(event: IpcMainInvokeEvent): boolean {
  const window = mainWindow !== null && !mainWindow.isDestroyed() ? mainWindow : null;
  const frame = event.senderFrame;
  return isTrustedSender(
    {
      senderId: event.sender.id,
      windowId: window?.webContents.id ?? null,
      frame: frame === null ? null : { url: frame.url, isTop: frame.parent === null },
    },
    rendererUrl,
  );
}

function hardenSession(): void {
  const defaultSession = session.defaultSession;
  defaultSession.webRequest.onHeadersReceived((details, callback) => {
    const responseHeaders = { ...details.responseHeaders };
    for (const name of Object.keys(responseHeaders)) {
      if (name.toLowerCase() === 'content-security-policy') delete responseHeaders[name];
    }
    responseHeaders['Content-Security-Policy'] = [contentSecurityPolicy];
    callback({ responseHeaders });
  });
  // Countersign needs no camera, microphone, notifications, geolocation, clipboard or USB.
  defaultSession.setPermissionRequestHandler((_webContents, permission, callback) =>
    callback(permissionGranted(permission)),
  );
  defaultSession.setPermissionCheckHandler((_webContents, permission) => permissionGranted(permission));
}

function createMainWindow(): BrowserWindow {
  const window = new BrowserWindow(mainWindowOptions(preloadPath));
  window.once('ready-to-show', () => window.show());
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = null;
  });
  if (devRendererUrl !== undefined) {
    void window.loadURL(devRendererUrl);
  } else {
    void window.loadFile(rendererIndexPath);
  }
  return window;
}

// Applies to every web contents, including any a future feature creates: no navigation away from
// the renderer, no new windows, no <webview>.
app.on('web-contents-created', (_event, contents) => {
  contents.on('will-navigate', (event) => {
    if (!navigationAllowed(event.url, contents.getURL())) event.preventDefault();
  });
  contents.on('will-redirect', (event) => {
    if (!redirectAllowed(event.url, rendererUrl)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => windowOpenDecision);
});

app.on('will-quit', (event) => {
  if (closedWorkstation || workstation === null) return;
  event.preventDefault();
  const closing = workstation;
  workstation = null;
  closing
    .close()
    .catch((error: unknown) => log(`countersign: closing the workstation failed: ${String(error)}`))
    .finally(() => {
      closedWorkstation = true;
      app.quit();
    });
});

async function start(): Promise<void> {
  await app.whenReady();
  hardenSession();
  workstation = await createWorkstation({
    dataDir: app.getPath('userData'),
    log,
    // Cache keys sealed by the OS keychain (docs/cache-and-sync.md).
    cacheKeyStore: new SafeStorageCacheKeyStore(join(app.getPath('userData'), 'cache', 'keys'), safeStorage),
    // "Save as…" for an exported packet: the operating system's save dialog, over our window.
    chooseExportDestination: async (suggestedName) => {
      const options = {
        defaultPath: join(app.getPath('documents'), suggestedName),
        filters: [{ name: 'Inspection packet', extensions: ['zip'] }],
      };
      const choice =
        mainWindow !== null && !mainWindow.isDestroyed()
          ? await dialog.showSaveDialog(mainWindow, options)
          : await dialog.showSaveDialog(options);
      return choice.canceled || !choice.filePath ? null : choice.filePath;
    },
  });
  registerContractHandlers(ipcMain, workstation.handlers, trustedSender, { log });
  // Pushed events go to our one window only.
  workstation.subscribe((event, payload) => {
    if (mainWindow !== null && !mainWindow.isDestroyed()) mainWindow.webContents.send(event, payload);
  });
  mainWindow = createMainWindow();

  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createMainWindow();
  });
}

if (!app.requestSingleInstanceLock()) {
  // Another Countersign is running on this data folder (and its database): hand over to it.
  app.quit();
} else {
  app.enableSandbox();
  app.on('second-instance', () => {
    if (mainWindow === null) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  start().catch((error: unknown) => {
    log(
      `countersign: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    app.exit(1);
  });
}
