// The keyboard shortcuts (?), from the same table the key handler uses, and the marker legend.
import { KEYFRAME_STATES, KEYFRAME_STYLES } from '../lib/keyframes.ts';
import { SHORTCUTS } from '../lib/shortcuts.ts';
import { KeyframeGlyph } from './KeyframeGlyph.tsx';
import { Modal } from './Modal.tsx';

export function HelpSheet({ onClose }: { onClose(): void }) {
  return (
    <Modal title="Keyboard shortcuts" onClose={onClose}>
      <table className="shortcuts">
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.action}>
              <td>
                <kbd>{s.keys}</kbd>
              </td>
              <td>{s.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Key-frame markers</h3>
      <ul className="legend-list">
        {KEYFRAME_STATES.map((s) => (
          <li key={s}>
            <KeyframeGlyph state={s} size={14} /> <strong>{KEYFRAME_STYLES[s].label}</strong> — {KEYFRAME_STYLES[s].description}
          </li>
        ))}
      </ul>
      <p className="muted small">On a Mac, use ⌘ where it says Ctrl. Every change to the project can be undone, also after reopening it (History, top right).</p>
      <p className="muted small">Drag the timeline to scrub, drag a marker to move its key frame, Ctrl + wheel to zoom.</p>
    </Modal>
  );
}
