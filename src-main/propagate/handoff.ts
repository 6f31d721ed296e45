// One-slot rendezvous between a producer and a consumer that walk the same frames in the same
// order: the producer's put resolves only when the consumer has taken the frame, so at most one
// frame is in flight and nothing accumulates in memory.
export class Handoff<T> {
  #slot: { t: number; value: T; taken: () => void; refused: (err: unknown) => void } | null = null;
  #waiting: { t: number; got: (v: T) => void; refused: (err: unknown) => void } | null = null;
  #failure: { err: unknown } | null = null;

  put(t: number, value: T): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure.err);
    return new Promise<void>((taken, refused) => {
      const w = this.#waiting;
      if (w) {
        this.#waiting = null;
        if (w.t !== t) {
          const err = new Error(`internal: frame ${t} was produced while frame ${w.t} was awaited`);
          w.refused(err);
          refused(err);
          return;
        }
        w.got(value);
        taken();
        return;
      }
      this.#slot = { t, value, taken, refused };
    });
  }

  take(t: number): Promise<T> {
    if (this.#failure) return Promise.reject(this.#failure.err);
    const s = this.#slot;
    if (s) {
      this.#slot = null;
      if (s.t !== t) {
        const err = new Error(`internal: frame ${t} was awaited while frame ${s.t} was produced`);
        s.refused(err);
        return Promise.reject(err);
      }
      s.taken();
      return Promise.resolve(s.value);
    }
    return new Promise<T>((got, refused) => {
      this.#waiting = { t, got, refused };
    });
  }

  /** Rejects whatever waits now and every later call: the other side is gone. */
  fail(err: unknown): void {
    if (this.#failure) return;
    this.#failure = { err };
    this.#slot?.refused(err);
    this.#waiting?.refused(err);
    this.#slot = null;
    this.#waiting = null;
  }
}
