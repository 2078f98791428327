/**
 * Shape checks for the archive's JSON entries. Each returns the value or throws a plain
 * Error naming the field; the caller turns it into an integrity error for its archive.
 */
export type JsonObject = Record<string, unknown>;

export function asObject(value: unknown, field: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${field} is not an object`);
  return value as JsonObject;
}

export function asString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new Error(`${field} is not a string`);
  return value;
}

export function asOptionalString(value: unknown, field: string): string | undefined {
  return value === undefined ? undefined : asString(value, field);
}

export function asCount(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${field} is not a non-negative integer`);
  }
  return value;
}

export function asArray(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${field} is not a list`);
  return value;
}

export function asStringArray(value: unknown, field: string): string[] {
  return asArray(value, field).map((item, i) => asString(item, `${field}[${i}]`));
}

export function asBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new Error(`${field} is not true or false`);
  return value;
}

export function parseJsonObject(bytes: Buffer, field: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new Error(`${field} is not valid JSON`);
  }
  return asObject(value, field);
}

/** The one byte form of the archive's JSON entries (the trailer's bytes are checked against it). */
export function serializeJsonEntry(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
