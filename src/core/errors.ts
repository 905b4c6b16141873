/**
 * An error whose message is one clear sentence for a person (bad input, bad option,
 * damaged model folder). Anything else that escapes is a bug and is reported as such.
 */
export class UserError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UserError';
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}
