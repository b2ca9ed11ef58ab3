import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MASK, SecretMasker, StreamRedactor, secretForms } from '../../../src/secrets/index.js';

/** Feeds `chunks` to a fresh redactor and joins what it returns, flush included. */
function streamed(masker: SecretMasker, chunks: string[]): string {
  const redactor = new StreamRedactor(masker);
  return chunks.map((chunk) => redactor.push(chunk)).join('') + redactor.flush();
}

/** `text` cut at the given positions (any order, duplicates allowed). */
function cut(text: string, at: number[]): string[] {
  const points = [...new Set(at.map((n) => n % (text.length + 1)))].sort((a, b) => a - b);
  const chunks: string[] = [];
  let from = 0;
  for (const point of points) {
    chunks.push(text.slice(from, point));
    from = point;
  }
  chunks.push(text.slice(from));
  return chunks;
}

/**
 * The masking rule written the slow, obvious way: mark every character
 * covered by an occurrence of any form of any value, then replace each
 * maximal run of marked characters (so occurrences that overlap or touch
 * merge) with `***`.
 */
function reference(values: string[], text: string): string {
  const forms = values.flatMap(secretForms);
  const covered = new Array<boolean>(text.length).fill(false);
  for (let p = 0; p < text.length; p += 1) {
    for (const form of forms) {
      if (!text.startsWith(form, p)) continue;
      for (let i = p; i < p + form.length; i += 1) covered[i] = true;
    }
  }
  let out = '';
  for (let i = 0; i < text.length; i += 1) {
    if (!covered[i]) out += text[i];
    else if (i === 0 || !covered[i - 1]) out += MASK;
  }
  return out;
}

describe('StreamRedactor', () => {
  const secret = 'sup3r-s3cret-value';
  const masker = new SecretMasker([secret]);
  const text = `before ${secret} between ${secret}${secret} after`;

  it('masks a value split across two chunks at every possible index', () => {
    for (let i = 0; i <= text.length; i += 1) {
      expect(streamed(masker, [text.slice(0, i), text.slice(i)])).toBe(
        'before *** between *** after',
      );
    }
  });

  it('masks a value fed one character at a time, and a multi-line key cut in three', () => {
    expect(streamed(masker, [...text])).toBe('before *** between *** after');
    const pem = '-----BEGIN KEY-----\nAAAABBBBCCCC\nDDDDEEEE\n-----END KEY-----\n';
    const pemMasker = new SecretMasker([pem]);
    const out = `x\n${pem}y`;
    for (let i = 0; i <= out.length; i += 3) {
      for (let j = i; j <= out.length; j += 5) {
        expect(streamed(pemMasker, [out.slice(0, i), out.slice(i, j), out.slice(j)])).toBe(
          'x\n***y',
        );
      }
    }
  });

  it('holds back at most longest - 1 characters', () => {
    const redactor = new StreamRedactor(masker);
    let emitted = 0;
    let given = 0;
    for (const chunk of ['no secret here, just text ', 'and more text ', 'x']) {
      given += chunk.length;
      emitted += redactor.push(chunk).length;
      expect(given - emitted).toBeLessThanOrEqual(masker.longest - 1);
    }
    expect(redactor.flush()).toHaveLength(given - emitted);
  });

  it('passes chunks through unchanged with no secrets', () => {
    const redactor = new StreamRedactor(SecretMasker.none);
    expect(redactor.push('abc')).toBe('abc');
    expect(redactor.flush()).toBe('');
  });

  it('starts over after flush', () => {
    const redactor = new StreamRedactor(masker);
    expect(redactor.push(`a ${secret.slice(0, 5)}`) + redactor.flush()).toBe(
      `a ${secret.slice(0, 5)}`,
    );
    expect(redactor.push(secret.slice(5)) + redactor.flush()).toBe(secret.slice(5));
    expect(redactor.push(secret) + redactor.flush()).toBe(MASK);
  });

  it('masks a surrogate pair cut between two chunks', () => {
    const emoji = 'key😀key';
    const m = new SecretMasker([emoji]);
    const whole = `<${emoji}>`;
    for (let i = 0; i <= whole.length; i += 1) {
      expect(streamed(m, [whole.slice(0, i), whole.slice(i)])).toBe('<***>');
    }
  });
});

describe('StreamRedactor and redact, properties', () => {
  // A small alphabet so that secrets overlap, contain each other and repeat; no `*`.
  const unit = fc.constantFrom('a', 'b', 'c', '\n', '"', ' ');
  const secrets = fc.uniqueArray(fc.string({ unit, minLength: 1, maxLength: 6 }), {
    minLength: 1,
    maxLength: 4,
  });
  const case_ = secrets.chain((values) =>
    fc.record({
      values: fc.constant(values),
      text: fc
        .array(fc.oneof(fc.constantFrom(...values), fc.string({ unit, maxLength: 5 })), {
          maxLength: 12,
        })
        .map((parts) => parts.join('')),
      cuts: fc.array(fc.nat(), { maxLength: 8 }),
    }),
  );

  it('redact agrees with the obvious marking of every occurrence', () => {
    fc.assert(
      fc.property(case_, ({ values, text }) => {
        expect(new SecretMasker(values).redact(text)).toBe(reference(values, text));
      }),
      { numRuns: 500 },
    );
  });

  it('pushes and flush joined equal redact(text), for any split, and hold no secret', () => {
    fc.assert(
      fc.property(case_, ({ values, text, cuts }) => {
        const masker = new SecretMasker(values);
        const out = streamed(masker, cut(text, cuts));
        expect(out).toBe(masker.redact(text));
        for (const value of values) expect(out.includes(value)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
