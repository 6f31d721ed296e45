// A field's draft that follows its saved value, for the settings forms.
import { useEffect, useRef, useState } from 'react';

/**
 * A draft that follows the saved value, except for the echo of this component's own save: the
 * user may already be typing the next change, which a reset would throw away.
 */
export function useSyncedDraft<D>(savedKey: string, fromSaved: (key: string) => D) {
  const [draft, setDraft] = useState(() => fromSaved(savedKey));
  // Saves in flight, by key: several may be, when the user moves on quickly.
  const pending = useRef(new Set<string>());
  const from = useRef(fromSaved);
  from.current = fromSaved;
  useEffect(() => {
    if (pending.current.delete(savedKey)) return;
    setDraft(from.current(savedKey));
  }, [savedKey]);
  return { draft, setDraft, committing: (key: string) => void pending.current.add(key) };
}
