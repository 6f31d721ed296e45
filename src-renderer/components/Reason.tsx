// Why an action cannot run, next to its button. The services' reasons can be long (what is
// missing, how to set it, where to get it): the first line shows, the rest unfolds.
export function Reason({ text, prefix = '', testId }: { text: string; prefix?: string; testId?: string }) {
  const nl = text.indexOf('\n');
  if (nl === -1) {
    return (
      <div className="reason" data-testid={testId}>
        {prefix}
        {text}
      </div>
    );
  }
  return (
    <div className="reason" data-testid={testId}>
      <details>
        <summary>
          {prefix}
          {text.slice(0, nl)}
        </summary>
        {text.slice(nl)}
      </details>
    </div>
  );
}
