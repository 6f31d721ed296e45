// The application menu. Editor actions (undo, export, shortcuts) are the renderer's: the menu
// sends the same key press the user would type, so no extra API is exposed to the page.
import { basename } from 'node:path';
import type { MenuItemTemplate } from './electron-types.ts';

export interface MenuActions {
  newProject(): void;
  openProject(): void;
  openRecent(path: string): void;
  /** Sends a key press to the editor window (same handler as the keyboard shortcut). */
  sendKey(keyCode: string, modifiers: string[]): void;
}

export function buildMenuTemplate(actions: MenuActions, recent: string[], isMac: boolean): MenuItemTemplate[] {
  const mod = isMac ? 'meta' : 'control';
  // registerAccelerator: false shows the shortcut but lets the key reach the page, where the
  // editor handles it (a menu accelerator would swallow it).
  const key = (label: string, accelerator: string, keyCode: string, modifiers: string[]): MenuItemTemplate => ({
    label,
    accelerator,
    registerAccelerator: false,
    click: () => actions.sendKey(keyCode, modifiers),
  });
  const recentItems: MenuItemTemplate[] =
    recent.length > 0
      ? recent.map((p) => ({ label: `${basename(p)} — ${p}`, click: () => actions.openRecent(p) }))
      : [{ label: 'No recent projects', enabled: false }];
  const template: MenuItemTemplate[] = [
    {
      label: 'File',
      submenu: [
        { label: 'New Project…', accelerator: 'CmdOrCtrl+N', click: () => actions.newProject() },
        { label: 'Open Project…', accelerator: 'CmdOrCtrl+O', click: () => actions.openProject() },
        { label: 'Open Recent', submenu: recentItems },
        { type: 'separator' },
        key('Export Video…', 'CmdOrCtrl+E', 'E', [mod]),
        { type: 'separator' },
        { role: isMac ? 'close' : 'quit' },
      ],
    },
    {
      label: 'Edit',
      submenu: [
        key('Undo', 'CmdOrCtrl+Z', 'Z', [mod]),
        key('Redo', 'CmdOrCtrl+Shift+Z', 'Z', [mod, 'shift']),
        { type: 'separator' },
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        { role: 'selectAll' },
      ],
    },
    {
      label: 'View',
      submenu: [
        { role: 'reload' },
        { role: 'toggleDevTools' },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    {
      label: 'Help',
      submenu: [key('Keyboard Shortcuts', '?', '?', [])],
    },
  ];
  return isMac ? [{ role: 'appMenu' }, ...template] : template;
}
