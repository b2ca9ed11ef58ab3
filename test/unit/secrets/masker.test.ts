import { describe, expect, it } from 'vitest';
import {
  MIN_BASE64_LENGTH,
  MIN_LINE_LENGTH,
  type Redactor,
  SecretMasker,
  secretForms,
} from '../../../src/secrets/index.js';

const mask = (values: string[], text: string) => new SecretMasker(values).redact(text);

/** A PEM-like multi-line key: header, base64 body lines, footer, trailing newline. */
const PEM = [
  '-----BEGIN PRIVATE KEY-----',
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj',
  'MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu',
  'NMoSfm76oqFvAp8Gy0iz5sxjZmSnXyCdPEovGhLa0VzMaQ8s+CLOyS56YyCFGeJZ',
  '-----END PRIVATE KEY-----',
  '',
].join('\n');

describe('SecretMasker: what is masked', () => {
  it('masks every occurrence of a value', () => {
    expect(mask(['s3cr3t'], 'a s3cr3t b s3cr3t')).toBe('a *** b ***');
  });

  it('masks a value that contains another whole, whichever order they are given in', () => {
    expect(mask(['pass', 'password'], 'my password, my pass')).toBe('my ***, my ***');
    expect(mask(['password', 'pass'], 'my password, my pass')).toBe('my ***, my ***');
  });

  it('leaves no piece of two secrets that overlap: the union of their occurrences is one mask', () => {
    expect(mask(['abcd', 'cdef'], 'x abcdef y')).toBe('x *** y');
    expect(mask(['cdef', 'abcd'], 'x abcdef y')).toBe('x *** y');
    // A chain of overlapping occurrences of one value.
    expect(mask(['aa'], 'baaaaab')).toBe('b***b');
  });

  it('merges occurrences that touch, as GitHub does, and keeps apart those that do not', () => {
    expect(mask(['secret'], 'secretsecret')).toBe('***');
    expect(mask(['ab', 'cd'], 'abcd ab-cd')).toBe('*** ***-***');
  });

  it('masks a value of any length, one character included', () => {
    expect(mask(['x'], 'xax')).toBe('***a***');
    expect(mask(['ab'], 'cab')).toBe('c***');
  });

  it('never registers the empty value', () => {
    const masker = new SecretMasker(['', '']);
    expect(masker.longest).toBe(0);
    expect(masker.redact('anything')).toBe('anything');
    expect(secretForms('')).toEqual([]);
  });

  it('masks text holding regular-expression syntax literally', () => {
    expect(mask(['a.b*c(d)|[e]\\f$^{1}?+'], 'x a.b*c(d)|[e]\\f$^{1}?+ y axbbc')).toBe(
      'x *** y axbbc',
    );
  });

  it('masks lone surrogates and a value that has no URL encoding', () => {
    const value = '\ud800lone';
    expect(mask([value], `<${value}>`)).toBe('<***>');
  });
});

describe('SecretMasker: multi-line secrets', () => {
  it('masks the whole key as one', () => {
    expect(mask([PEM], `key:\n${PEM}done`)).toBe('key:\n***done');
  });

  it('masks each line on its own, trimmed, for line-oriented output', () => {
    const lines = PEM.split('\n').filter((l) => l !== '');
    const masker = new SecretMasker([PEM]);
    for (const line of lines) expect(masker.redact(`step | ${line}`)).toBe('step | ***');
    // The key written with CRLF and indentation: every line is still masked.
    const indented = lines.map((l) => `    ${l}`).join('\r\n');
    expect(masker.redact(indented)).toBe(lines.map(() => '    ***').join('\r\n'));
  });

  it(`skips lines shorter than ${MIN_LINE_LENGTH} characters after trimming, but masks the whole value`, () => {
    const value = 'first-line\n  }  \nab\n\nlast-line';
    const forms = secretForms(value);
    expect(forms).toContain('first-line');
    expect(forms).toContain('last-line');
    expect(forms).not.toContain('}');
    expect(forms).not.toContain('ab');
    const masker = new SecretMasker([value]);
    expect(masker.redact('ab } abc')).toBe('ab } abc');
    expect(masker.redact(`>${value}<`)).toBe('>***<');
    expect(new SecretMasker(['abc\nxyz']).redact('abc xyz')).toBe('*** ***');
  });
});

describe('SecretMasker: encoded forms', () => {
  const tricky = 'p"a\\ss\nw\tord';

  it('masks the JSON-escaped form, so a serialized event stays masked', () => {
    const masker = new SecretMasker([tricky]);
    expect(masker.redact(JSON.stringify({ env: { TOKEN: tricky } }))).toBe(
      '{"env":{"TOKEN":"***"}}',
    );
    expect(masker.redact(JSON.stringify([tricky, 1]))).toBe('["***",1]');
    // Its lines, JSON-escaped, too.
    expect(masker.redact(JSON.stringify('p"a\\ss'))).toBe('"***"');
  });

  it('masks the URL-encoded forms', () => {
    const value = 'a b&c/d=e';
    const masker = new SecretMasker([value]);
    expect(masker.redact(`https://h/x?t=${encodeURIComponent(value)}&n=1`)).toBe(
      'https://h/x?t=***&n=1',
    );
    expect(masker.redact(new URLSearchParams({ t: value }).toString())).toBe('t=***');
  });

  it('masks the base64 of the value, padded or not, standard or URL-safe', () => {
    const value = 'hunter2-hunter2?';
    const masker = new SecretMasker([value]);
    const bytes = Buffer.from(value);
    expect(masker.redact(bytes.toString('base64'))).toBe('***');
    expect(masker.redact(bytes.toString('base64url'))).toBe('***');
    expect(masker.redact(`x ${bytes.toString('base64')} y`)).toBe('x *** y');
  });

  it('masks the value inside base64 of a longer text, at each of the three alignments', () => {
    const value = 'correct-horse-battery';
    const masker = new SecretMasker([value]);
    for (const prefix of ['', 'u:', 'us:', 'use:', 'user:']) {
      for (const suffix of ['', '!', '!!', '!!!']) {
        const encoded = Buffer.from(`${prefix}${value}${suffix}`).toString('base64');
        const out = masker.redact(`Authorization: Basic ${encoded}`);
        expect(out).toContain('***');
        // What is left of the encoded text decodes to at most 2 bytes of the value's neighbourhood each side.
        const left = out.slice('Authorization: Basic '.length).split('***');
        expect(left).toHaveLength(2);
        for (const piece of left) expect(piece.length).toBeLessThanOrEqual(8);
      }
    }
  });

  it(`does not register base64 forms shorter than ${MIN_BASE64_LENGTH} characters`, () => {
    // 'abc' is 'YWJj' in base64: too short to mask on its own.
    expect(mask(['abc'], 'YWJj')).toBe('YWJj');
    expect(secretForms('abc').every((f) => f.length >= 3)).toBe(true);
  });

  it('reports as longest the longest registered form', () => {
    const masker: Redactor = new SecretMasker(['hunter2', 'x']);
    expect(masker.longest).toBe('aHVudGVyMg=='.length);
    expect(masker.longest).toBe(Math.max(...secretForms('hunter2').map((f) => f.length)));
  });
});

describe('SecretMasker.none', () => {
  it('masks nothing and has longest 0', () => {
    expect(SecretMasker.none.longest).toBe(0);
    expect(SecretMasker.none.redact('a *** b')).toBe('a *** b');
    expect(new SecretMasker([]).longest).toBe(0);
  });
});

describe('redactValue', () => {
  const masker = new SecretMasker(['tok3n', 'pa"ss']);

  it('deep-copies a JSON-like value with every string redacted, keys included', () => {
    const event = {
      type: 'step.finished',
      attempt: 2,
      ok: false,
      none: null,
      error: { message: 'login with tok3n failed', lines: ['a tok3n', 'pa"ss', 3] },
      'tok3n-key': 'x',
    };
    const copy = masker.redactValue(event);
    expect(copy).toEqual({
      type: 'step.finished',
      attempt: 2,
      ok: false,
      none: null,
      error: { message: 'login with *** failed', lines: ['a ***', '***', 3] },
      '***-key': 'x',
    });
    expect(copy).not.toBe(event);
    expect((copy as { error: unknown }).error).not.toBe(event.error);
    expect(event.error.message).toBe('login with tok3n failed');
  });

  it('copies what toJSON gives (a Date as its ISO string) and returns primitives as they are', () => {
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(masker.redactValue({ at })).toEqual({ at: '2026-01-02T03:04:05.000Z' });
    expect(masker.redactValue('tok3n')).toBe('***');
    expect(masker.redactValue(42)).toBe(42);
    expect(masker.redactValue(true)).toBe(true);
    expect(masker.redactValue(null)).toBe(null);
    expect(masker.redactValue(undefined)).toBe(undefined);
  });

  it('serializes to the redaction of the serialized value', () => {
    const value = { a: ['tok3n', { b: 'x pa"ss y' }] };
    expect(JSON.stringify(masker.redactValue(value))).toBe(masker.redact(JSON.stringify(value)));
  });

  it('copies with the none masker too', () => {
    const value = { a: [1, 'b'] };
    const copy = SecretMasker.none.redactValue(value);
    expect(copy).toEqual(value);
    expect(copy).not.toBe(value);
  });

  it('throws a TypeError for a cyclic value, but copies a shared one', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => masker.redactValue(cyclic)).toThrow(TypeError);
    const shared = { s: 'tok3n' };
    expect(masker.redactValue([shared, shared])).toEqual([{ s: '***' }, { s: '***' }]);
  });
});

describe('SecretMasker: cost', () => {
  it('masks 1 MiB of text with 20 secrets well within a generous deadline', () => {
    const secrets = Array.from(
      { length: 20 },
      (_, i) => `secret-${i}-${'x'.repeat(i)}-${i * 7919}`,
    );
    const masker = new SecretMasker(secrets);
    const parts: string[] = [];
    let size = 0;
    for (let i = 0; size < 1 << 20; i += 1) {
      const part =
        i % 50 === 0 ? secrets[i % secrets.length] : `line ${i} secret-${i % 20} almost s `;
      parts.push(part ?? '');
      size += part?.length ?? 0;
    }
    const text = parts.join('');
    const started = performance.now();
    const out = masker.redact(text);
    const elapsed = performance.now() - started;
    for (const secret of secrets) expect(out.includes(secret)).toBe(false);
    expect(elapsed).toBeLessThan(5_000);
  });
});
