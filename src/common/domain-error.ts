/** What went wrong, in terms the HTTP edge maps to a status (HttpErrorFilter) and nothing below it needs to know. */
export type DomainErrorKind = 'invalid' | 'unauthenticated' | 'forbidden' | 'not_found' | 'unavailable';

/**
 * An error a service throws for a caller's mistake or a missing thing. `code` is a stable snake_case string
 * clients may branch on (it goes into the error body as is); `field` names the request field it is about.
 */
export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** More body fields for errors whose answer already had them (the box refusals' `reason`). */
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
    if (!/^[a-z][a-z0-9_]*$/.test(code)) throw new Error(`error code "${code}" is not snake_case`);
    this.name = new.target.name;
  }
}
