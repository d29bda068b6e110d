/** A JSON object (not null, not an array): what parsed input must be before its keys are read. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
