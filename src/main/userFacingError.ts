// An error whose message is written for the person at the workstation (what happened, what to do)
// and may cross to the renderer. Any other error is logged in the main process and reported to the
// renderer generically, because its details (SQL, paths, connection strings) do not belong there.
export class UserFacingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UserFacingError';
  }
}
