// Exit codes of `rerender`, documented in README.md and in `rerender --help`.
export const EXIT = {
  ok: 0,
  /** An unexpected internal error (a bug: please report it). */
  internal: 1,
  /** The command line is wrong (unknown command, missing or bad option). */
  usage: 2,
  /** An input is bad: missing/corrupt video, not a project, bad image, out-of-range frame. */
  input: 3,
  /** The environment lacks something: ffmpeg, the native addon, a model, disk space, permissions. */
  environment: 4,
  /** Cancelled (Ctrl+C / SIGTERM); work done so far is kept and a rerun resumes. */
  cancelled: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODE_HELP = `Exit codes:
  0    success
  1    internal error (a bug)
  2    usage error (bad command line)
  3    bad input (video, project, image or frame number)
  4    environment problem (ffmpeg, native addon, model, disk space, permissions)
  130  cancelled; finished frames are kept and a rerun resumes`;
