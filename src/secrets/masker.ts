/**
 * Masking of secret values: every path out of a run (live output, log
 * files, NDJSON, JUnit, events, error messages) passes text through a
 * {@link Redactor}, which replaces each secret value with `***`.
 *
 * The reference is GitHub Actions' runner (`add-mask` and job secrets, its
 * `SecretMasker` and `ValueEncoders`):
 *
 * - every occurrence of every registered string is found, overlapping ones
 *   included; occurrences that overlap or touch are merged, and each merged
 *   run of characters becomes one `***`. So a value that contains another is
 *   masked whole, two secrets that overlap (`abcd`, `cdef` in `abcdef`)
 *   leave no piece of either, and `secretsecret` is one `***`.
 * - what is registered for one value ({@link secretForms}): the value itself,
 *   of any length but empty (a one-character secret masks that character
 *   everywhere, as on GitHub); its JSON-string-escaped form (`JSON.stringify`
 *   without the quotes, so an event or a line of JSON holding a value with
 *   `"`, `\` or a newline stays masked); its URL-encoded forms
 *   (`encodeURIComponent`, and form encoding with `+` for a space); and its
 *   base64 forms (see below). A value with a line break (a PEM key) is also
 *   registered line by line, each line trimmed, so line-oriented output
 *   masks it: lines shorter than {@link MIN_LINE_LENGTH} characters after
 *   trimming are skipped (a `}` or `--` line would otherwise mask every such
 *   line of unrelated output); each line also in its JSON-escaped form.
 * - base64: for the value's UTF-8 bytes starting at offsets 0, 1 and 2 (the
 *   three alignments a value can have inside a longer base64 text, such as
 *   `base64(user:password)`), both the base64 of the whole groups of 3 bytes
 *   (which appears wherever the value is encoded at that alignment) and the
 *   complete padded base64 (which also covers the value's last bytes when it
 *   ends the encoded data), in the standard and the URL-safe alphabet.
 *   Forms shorter than {@link MIN_BASE64_LENGTH} are skipped: a short piece
 *   of base64 would match unrelated text. GitHub's runner registers
 *   `base64(bytes[shift:])` for the same three shifts.
 *
 * Matching is one compiled RegExp, an alternation of the escaped strings,
 * longest first, without the `u` flag (UTF-16 code units, so a lone
 * surrogate or a chunk cut inside a surrogate pair is no problem). For each
 * position the first alternative that matches is the longest string
 * starting there; a search that resumes one position after each match finds
 * the overlapping ones, and positions that cannot extend the current masked
 * run are skipped. Text without secrets costs one scan.
 *
 * Known limit: a secret that itself contains `*` can reappear next to a
 * mask (`a*` in `aa*` gives `a***`); the masked occurrence is still gone.
 */

/** What replaces each masked run of characters. */
export const MASK = '***';

/** Shortest line (after trimming) of a multi-line secret that is registered on its own, in UTF-16 code units. */
export const MIN_LINE_LENGTH = 3;

/** Shortest base64 form of a secret that is registered, in characters. */
export const MIN_BASE64_LENGTH = 8;

/**
 * Replaces secret values in text. The structural interface the output and
 * report modules consume; {@link SecretMasker} implements it.
 */
export interface Redactor {
  /** Replaces every secret value in `text` with `***`. */
  redact(text: string): string;
  /** UTF-16 length of the longest value masked (0 when none): a consumer that splits a stream into pieces keeps `longest - 1` characters back so a value straddling two pieces is still masked. */
  readonly longest: number;
}

/** `value` as it appears inside a JSON string (escaped, without the quotes). */
function jsonEscaped(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/** The base64 forms of `value` (module docs), each at least {@link MIN_BASE64_LENGTH} long. */
function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms: string[] = [];
  for (let shift = 0; shift < 3 && shift < bytes.length; shift += 1) {
    const tail = bytes.subarray(shift);
    const whole = tail.subarray(0, tail.length - (tail.length % 3));
    for (const part of [whole, tail]) {
      forms.push(part.toString('base64'), part.toString('base64url'));
    }
  }
  return forms.filter((form) => form.length >= MIN_BASE64_LENGTH);
}

/** `value` percent-encoded as a URI component and as a form field; none for a lone surrogate. */
function urlForms(value: string): string[] {
  try {
    return [encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2)];
  } catch {
    // encodeURIComponent throws URIError for a lone surrogate.
    return [];
  }
}

/**
 * The strings registered for one secret value (module docs): the value,
 * its JSON-escaped, URL-encoded and base64 forms, and for a value with a
 * line break each trimmed line of at least {@link MIN_LINE_LENGTH}
 * characters, raw and JSON-escaped. Distinct, in no particular order;
 * none for the empty value. Pure.
 */
export function secretForms(value: string): string[] {
  if (value === '') return [];
  const forms = new Set<string>([value, jsonEscaped(value), ...urlForms(value)]);
  for (const form of base64Forms(value)) forms.add(form);
  if (/[\r\n]/.test(value)) {
    for (const line of value.split(/\r\n|\r|\n/)) {
      const trimmed = line.trim();
      if (trimmed.length < MIN_LINE_LENGTH) continue;
      forms.add(trimmed);
      forms.add(jsonEscaped(trimmed));
    }
  }
  forms.delete('');
  return [...forms];
}

/** `text` with the RegExp syntax characters escaped (for a pattern without the `u` flag). */
function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/**
 * Where a scan of a text stands. Positions are indexes into the text being
 * scanned; {@link StreamRedactor} shifts them when it drops what it has
 * emitted.
 */
interface ScanState {
  /** Next position at which a match may start that has not been looked at. */
  next: number;
  /** End (exclusive) of the last masked run; -1 before the first. */
  maskEnd: number;
  /** Every character before this one has been emitted or masked. */
  emitted: number;
}

/**
 * Decides every start position in `[state.next, limit)` of `text`, appends
 * to `out` the masked text of every character that is final (before
 * `limit`), and advances `state`. A position is decided correctly only when
 * `text` holds at least `longest` characters from it, or all of the rest of
 * the stream: the caller chooses `limit` so.
 */
function scan(
  pattern: RegExp | undefined,
  longest: number,
  text: string,
  limit: number,
  state: ScanState,
  out: string[],
): void {
  let { next, maskEnd, emitted } = state;
  if (pattern !== undefined) {
    while (next < limit) {
      pattern.lastIndex = next;
      const match = pattern.exec(text);
      if (match === null || match.index >= limit) break;
      const start = match.index;
      const end = start + match[0].length;
      if (start <= maskEnd) {
        // Overlaps or touches the current masked run: extend it.
        if (end > maskEnd) maskEnd = end;
      } else {
        out.push(text.slice(Math.max(emitted, maskEnd), start), MASK);
        emitted = start;
        maskEnd = end;
      }
      // A match starting before maskEnd - longest + 1 ends inside the run: nothing to learn there.
      next = Math.max(start + 1, maskEnd - longest + 1);
    }
  }
  if (next < limit) next = limit;
  const from = Math.max(emitted, maskEnd);
  if (from < limit) {
    out.push(text.slice(from, limit));
    emitted = limit;
  }
  state.next = next;
  state.maskEnd = maskEnd;
  state.emitted = emitted;
}

/** The compiled pattern of a masker (its private field), for {@link scan}. */
let patternOf: (masker: SecretMasker) => RegExp | undefined;

/**
 * Replaces secret values with `***` ({@link Redactor}); the rules are in the
 * module docs. Immutable once built; `redact` and `redactValue` are pure and
 * linear in the length of the text (plus, per match, at most the length of
 * the longest registered string).
 *
 * `SecretMasker.none` masks nothing (`longest` 0), as does
 * `new SecretMasker([])`.
 */
export class SecretMasker implements Redactor {
  static {
    patternOf = (masker) => masker.#pattern;
  }

  /** Masks nothing; `longest` is 0. */
  static readonly none: SecretMasker = new SecretMasker([]);

  /** UTF-16 length of the longest registered string (a value or one of its forms); 0 when none. */
  readonly longest: number;
  readonly #pattern: RegExp | undefined;

  /**
   * @param values secret values, in any order; empty strings and duplicates
   *   are ignored. Each is registered with its forms ({@link secretForms}).
   */
  constructor(values: Iterable<string>) {
    const forms = new Set<string>();
    for (const value of values) for (const form of secretForms(value)) forms.add(form);
    // Longest first, so the first alternative that matches at a position is the longest.
    const sorted = [...forms].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
    this.longest = sorted[0]?.length ?? 0;
    this.#pattern =
      sorted.length === 0 ? undefined : new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
  }

  /** Replaces every secret value in `text` (and its forms) with `***`. Pure. */
  redact(text: string): string {
    if (this.#pattern === undefined || text.length === 0) return text;
    const out: string[] = [];
    scan(this.#pattern, this.longest, text, text.length, { next: 0, maskEnd: -1, emitted: 0 }, out);
    return out.join('');
  }

  /**
   * A deep copy of a JSON-like value with every string redacted, object
   * keys included (two keys that become the same keep the later value). An
   * object with a `toJSON` method (a `Date`) is copied as what `toJSON`
   * returns, so the copy serializes as the original would, masked; other
   * values (numbers, booleans, null, undefined) are returned as they are.
   * Used to mask events before they are stored.
   *
   * @throws TypeError when the value is cyclic (as `JSON.stringify` would).
   */
  redactValue(value: unknown): unknown {
    return this.#copy(value, new Set());
  }

  #copy(value: unknown, ancestors: Set<object>): unknown {
    if (typeof value === 'string') return this.redact(value);
    if (value === null || typeof value !== 'object') return value;
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      const json: unknown = toJSON.call(value);
      if (json !== value) return this.#copy(json, ancestors);
    }
    if (ancestors.has(value)) throw new TypeError('cannot redact a cyclic value');
    ancestors.add(value);
    const copy = Array.isArray(value)
      ? value.map((item) => this.#copy(item, ancestors))
      : Object.fromEntries(
          Object.entries(value).map(([key, item]) => [
            this.redact(key),
            this.#copy(item, ancestors),
          ]),
        );
    ancestors.delete(value);
    return copy;
  }
}

/**
 * Masks a stream that arrives in arbitrary chunks (not lines): `push` returns
 * the masked text that is safe to emit now, holding back at most
 * `longest - 1` trailing characters that might be the start of a secret;
 * `flush` returns the rest, masked, at the end of the stream. For any split
 * of a text into chunks, the pushes and the flush joined equal
 * `masker.redact(text)` (a property test checks it), so a value straddling
 * two chunks is masked, and masked runs that continue across chunks give
 * one `***`.
 *
 * After `flush` the redactor starts over, for a new stream.
 */
export class StreamRedactor {
  readonly #pattern: RegExp | undefined;
  readonly #longest: number;
  #buffer = '';
  #state: ScanState = { next: 0, maskEnd: -1, emitted: 0 };

  constructor(masker: SecretMasker) {
    this.#pattern = patternOf(masker);
    this.#longest = masker.longest;
  }

  /** Takes the next chunk; returns the masked text that is final (possibly ''). */
  push(chunk: string): string {
    const longest = this.#longest;
    if (longest === 0) return chunk;
    this.#buffer += chunk;
    // A match can be decided at a position with `longest` characters from it.
    const limit = this.#buffer.length - longest + 1;
    if (limit <= this.#state.next) return '';
    const out: string[] = [];
    scan(this.#pattern, longest, this.#buffer, limit, this.#state, out);
    // Keep what is undecided (fewer than `longest` characters), shift the state to it.
    this.#buffer = this.#buffer.slice(limit);
    this.#state.next -= limit;
    this.#state.maskEnd -= limit;
    this.#state.emitted -= limit;
    return out.join('');
  }

  /** Ends the stream: returns the held-back rest, masked, and starts over. */
  flush(): string {
    const out: string[] = [];
    scan(this.#pattern, this.#longest, this.#buffer, this.#buffer.length, this.#state, out);
    this.#buffer = '';
    this.#state = { next: 0, maskEnd: -1, emitted: 0 };
    return out.join('');
  }
}
