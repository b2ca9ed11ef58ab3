/**
 * Canonical JSON and sha256 fingerprints: the same value always gives the
 * same text and hash, whatever the key order of its objects.
 */

import { createHash } from 'node:crypto';

/**
 * JSON text of `value` with object keys sorted (by UTF-16 code unit order) at
 * every depth and no whitespace. Array order is kept (it is meaningful: argv,
 * ports). Object properties whose value is `undefined` are left out, as
 * `JSON.stringify` does; `undefined` inside arrays becomes `null`.
 *
 * @throws TypeError for values JSON cannot represent (bigint, functions, cycles).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value, new Set()));
}

/** sha256 of a string (UTF-8), as 64 lower-case hex digits. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function sortKeys(value: unknown, seen: Set<object>): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint' || typeof value === 'function' || typeof value === 'symbol') {
      throw new TypeError(`cannot fingerprint a ${typeof value}`);
    }
    return value;
  }
  if (seen.has(value)) throw new TypeError('cannot fingerprint a cyclic value');
  seen.add(value);
  let out: unknown;
  if (Array.isArray(value)) {
    out = value.map((v) => (v === undefined ? null : sortKeys(v, seen)));
  } else {
    const obj: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) obj[key] = sortKeys(v, seen);
    }
    out = obj;
  }
  seen.delete(value);
  return out;
}
