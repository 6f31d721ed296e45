// Why an action cannot run, next to its button, and every other problem the editor shows: one
// short line, with the technical part (what is missing, commands, paths) behind a "details"
// toggle. A multi-line `text` keeps working as before: its first line shows, the rest unfolds.
import type { ArtistMessage } from '../lib/messages.ts';

export interface MessageProps {
  message: ArtistMessage;
  prefix?: string;
  testId?: string;
  /** The box's style: 'reason' (amber, default), 'job-note warn', 'toast-text'… */
  className?: string;
}

/** One line; the details (when any) unfold from it. */
export function Message({ message, prefix = '', testId, className = 'reason' }: MessageProps) {
  if (message.details === null) {
    return (
      <div className={className} data-testid={testId}>
        {prefix}
        {message.line}
      </div>
    );
  }
  return (
    <div className={className} data-testid={testId}>
      <details className="message-details">
        <summary title="Show or hide the details">
          {prefix}
          {message.line}
        </summary>
        <div className="message-more" data-testid={testId ? `${testId}-details` : undefined}>
          {message.details}
        </div>
      </details>
    </div>
  );
}

export function Reason({ text, details, prefix = '', testId }: { text: string; details?: string | null; prefix?: string; testId?: string }) {
  if (details !== undefined && details !== null) return <Message message={{ line: text, details }} prefix={prefix} testId={testId} />;
  const nl = text.indexOf('\n');
  if (nl === -1) return <Message message={{ line: text, details: null }} prefix={prefix} testId={testId} />;
  // The rest keeps its leading newline, so the box's text is the services' text as it was.
  return <Message message={{ line: text.slice(0, nl), details: text.slice(nl) }} prefix={prefix} testId={testId} />;
}
