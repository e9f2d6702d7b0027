// Results as values: the core reports failure as data, never by throwing. Every failure is an
// Issue: a code a program can act on, a message a person can, and the field it is about.

export interface Issue {
  /** what kind of failure, in UpperCamelCase, e.g. QuantityInvalid, FieldValueRequired */
  readonly code: string;
  readonly message: string;
  /** the field it is about, as a path such as spec.replicas, when there is one */
  readonly path?: string;
}

/** The core's results carry an Issue; the shell's (reading files, reaching members) may say less. */
export type Result<T, E = Issue> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function err(code: string, message: string, path?: string): { readonly ok: false; readonly error: Issue } {
  return { ok: false, error: { code, message, ...(path !== undefined ? { path } : {}) } };
}

/** A failure of the shell's own kind (a message, a cause), outside the core's Issues. */
export function fail<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}
