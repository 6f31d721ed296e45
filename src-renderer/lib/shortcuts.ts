// Keyboard shortcuts: one table drives both the handler and the help sheet.

export type Action =
  | 'prev-frame'
  | 'next-frame'
  | 'prev-frame-10'
  | 'next-frame-10'
  | 'first-frame'
  | 'last-frame'
  | 'add-keyframe'
  | 'remove-keyframe'
  | 'prev-keyframe'
  | 'next-keyframe'
  | 'undo'
  | 'redo'
  | 'toggle-play'
  | 'help'
  | 'export'
  | 'brush'
  | 'eraser'
  | 'toggle-mask'
  | 'escape';

export interface KeyLike {
  key: string;
  shiftKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
}

export const SHORTCUTS: ReadonlyArray<{ keys: string; action: Action; description: string }> = [
  { keys: '← / →', action: 'prev-frame', description: 'Previous / next frame' },
  { keys: 'Shift + ← / →', action: 'prev-frame-10', description: 'Back / forward 10 frames' },
  { keys: 'Home / End', action: 'first-frame', description: 'First / last frame' },
  { keys: '[ / ]', action: 'prev-keyframe', description: 'Previous / next key frame' },
  { keys: 'K', action: 'add-keyframe', description: 'Add a key frame at the playhead' },
  { keys: 'Delete', action: 'remove-keyframe', description: 'Remove the key frame at the playhead (Ctrl + Z brings it back)' },
  { keys: 'Space', action: 'toggle-play', description: 'Play / pause the output' },
  { keys: 'B / E', action: 'brush', description: 'Mask brush / eraser' },
  { keys: 'M', action: 'toggle-mask', description: 'Show / hide the mask overlay' },
  { keys: 'Ctrl + Z', action: 'undo', description: 'Undo the last change (in the mask painter: its strokes first); kept with the project' },
  { keys: 'Ctrl + Shift + Z / Ctrl + Y', action: 'redo', description: 'Redo' },
  { keys: 'Ctrl + E', action: 'export', description: 'Export video' },
  { keys: '?', action: 'help', description: 'This help sheet' },
  { keys: 'Esc', action: 'escape', description: 'Close a dialog' },
];

/** Ctrl on Linux and Windows, Cmd (metaKey) on macOS: both are accepted everywhere. */
export function actionForKey(e: KeyLike): Action | null {
  const mod = e.ctrlKey || e.metaKey;
  if (mod && !e.altKey) {
    const k = e.key.toLowerCase();
    if (k === 'z') return e.shiftKey ? 'redo' : 'undo';
    if (k === 'y') return 'redo';
    if (k === 'e') return 'export';
    return null;
  }
  if (e.altKey) return null;
  switch (e.key) {
    case 'ArrowLeft':
      return e.shiftKey ? 'prev-frame-10' : 'prev-frame';
    case 'ArrowRight':
      return e.shiftKey ? 'next-frame-10' : 'next-frame';
    case 'Home':
      return 'first-frame';
    case 'End':
      return 'last-frame';
    case 'k':
    case 'K':
      return 'add-keyframe';
    // Not Backspace: a stray one (meant for a text field) must not delete a key frame.
    case 'Delete':
      return 'remove-keyframe';
    case '[':
      return 'prev-keyframe';
    case ']':
      return 'next-keyframe';
    case ' ':
      return 'toggle-play';
    case '?':
      return 'help';
    case 'b':
    case 'B':
      return 'brush';
    case 'e':
    case 'E':
      return 'eraser';
    case 'm':
    case 'M':
      return 'toggle-mask';
    case 'Escape':
      return 'escape';
    default:
      return null;
  }
}

/** Keys typed into a form field belong to the field, not to the editor. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!target || typeof (target as HTMLElement).tagName !== 'string') return false;
  const el = target as HTMLElement;
  const tag = el.tagName.toLowerCase();
  if (tag === 'textarea' || tag === 'select' || el.isContentEditable) return true;
  if (tag !== 'input') return false;
  const type = (el as HTMLInputElement).type;
  return !['checkbox', 'radio', 'range', 'button', 'submit', 'file', 'color'].includes(type);
}
