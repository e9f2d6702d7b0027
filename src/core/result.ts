// Results as values: the core reports failure as data, never by throwing. Every failure is an
// Issue: a code from a closed set that a program can act on, the field it is about as a path of
// keys and indexes, and a message a person can act on. The same Issue reaches the HTTP answer
// (`issues: [{code, path, message}]`) and the CLI unchanged.

/** Every kind of failure there is, in UpperCamelCase; field codes as the API server names them. */
export const ISSUE_CODES = [
  // a field of a Placement, a fleet snapshot or a request
  'FieldValueRequired',
  'FieldValueInvalid',
  'FieldValueTypeInvalid',
  'FieldValueNotSupported',
  // quantities and selectors
  'QuantityInvalid',
  'QuantityNegative',
  'QuantityTooLarge',
  'SelectorInvalid',
  // rules of a placement the room cannot meet
  'GangUnsatisfiable',
  'MinClustersUnsatisfiable',
  // a request the HTTP API cannot serve
  'RequestInvalid',
  'NotFound',
  'MethodNotAllowed',
  'Conflict',
  'Unauthorized',
  'Forbidden',
  'Unavailable',
  'Internal',
] as const;

export type IssueCode = (typeof ISSUE_CODES)[number];

/** Where in a document: object keys and list indexes, from the top. */
export type Path = readonly (string | number)[];

export interface Issue {
  readonly code: IssueCode;
  /** the field it is about; empty when it is about the whole */
  readonly path: Path;
  readonly message: string;
}

export type Result<T, E = Issue> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function err(code: IssueCode, message: string, path: Path = []): { readonly ok: false; readonly error: Issue } {
  return { ok: false, error: { code, message, path } };
}

/** A failure of the shell's own kind (a message, a cause), outside the core's Issues. */
export function fail<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}

/** A value as a message names it: "abc", number 5, an object, nothing. */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v);
  return `${typeof v} ${String(v)}`;
}

/** A path as text: spec.template.spec.containers[0].image; keys that are not plain words quoted. */
export function formatPath(path: Path): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) out += out === '' ? k : `.${k}`;
    else out += `[${JSON.stringify(k)}]`;
  }
  return out;
}

/** Issues as lines a person reads: "path: message". */
export function formatIssues(issues: readonly Issue[]): string {
  return issues.map((i) => (i.path.length === 0 ? i.message : `${formatPath(i.path)}: ${i.message}`)).join('\n');
}
