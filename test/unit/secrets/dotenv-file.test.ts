import { describe, expect, it } from 'vitest';
import { formatSecretsWarning, parseSecretFile } from '../../../src/secrets/index.js';

const entries = (text: string) => Object.fromEntries(parseSecretFile(text, 's.env').values);
const warnings = (text: string) =>
  parseSecretFile(text, 's.env').warnings.map(formatSecretsWarning);

describe('parseSecretFile: values (dotenv parse)', () => {
  it('reads the dotenv forms', () => {
    const text = [
      '# a comment',
      'PLAIN=value with spaces   # trailing comment',
      'export EXPORTED=1',
      "SINGLE='not # a comment'",
      'DOUBLE="line1\\nline2"',
      'COLON: yes',
      'EQUALS=a=b=c',
      'EMPTY=',
      'MULTI="-----BEGIN KEY-----',
      'AAAA',
      '-----END KEY-----"',
      'BACKTICK=`x "y" z`',
    ].join('\n');
    expect(entries(text)).toEqual({
      PLAIN: 'value with spaces',
      EXPORTED: '1',
      SINGLE: 'not # a comment',
      DOUBLE: 'line1\nline2',
      COLON: 'yes',
      EQUALS: 'a=b=c',
      EMPTY: '',
      MULTI: '-----BEGIN KEY-----\nAAAA\n-----END KEY-----',
      BACKTICK: 'x "y" z',
    });
    expect(warnings(text)).toEqual([]);
  });

  it('takes the last entry of a name, reads CRLF and a byte order mark', () => {
    expect(entries('\ufeffA=1\r\nB=2\r\nA=3\r\n')).toEqual({ A: '3', B: '2' });
  });

  it('gives the line of the entry whose value is used', () => {
    const file = parseSecretFile('A=1\n\nB=2\nA=3\n', 's.env');
    expect(Object.fromEntries(file.lines)).toEqual({ A: 4, B: 3 });
  });
});

describe('parseSecretFile: warnings at file:line', () => {
  it('reports each line dotenv ignores, without quoting it', () => {
    const text =
      'A=1\nthis line holds hunter2\n\n   \n# comment\n  # indented comment\nB=2\nJUST_A_NAME\n';
    expect(warnings(text)).toEqual([
      's.env:2: line ignored: expected NAME=VALUE',
      's.env:8: line ignored: expected NAME=VALUE',
    ]);
    expect(warnings(text).join('\n')).not.toContain('hunter2');
    expect(entries(text)).toEqual({ A: '1', B: '2' });
  });

  it('counts lines the same with CRLF and CR line endings', () => {
    expect(warnings('A=1\r\noops\r\nB=2\r\n')).toEqual([
      's.env:2: line ignored: expected NAME=VALUE',
    ]);
    expect(warnings('A=1\roops\rB=2')).toEqual(['s.env:2: line ignored: expected NAME=VALUE']);
  });

  it('does not report the inner lines of a multi-line quoted value', () => {
    expect(warnings('KEY="first\n  not = an entry\n#not a comment\nlast"\nX=1\n')).toEqual([]);
  });

  it('reports names dotenv takes but that are not secret names, and skips them', () => {
    const text = 'my.key=1\nOK=2\n1ABC=3\nwith-dash=4\n';
    expect(warnings(text)).toEqual([
      's.env:1: "my.key" is not a valid secret name (letters, digits and _, not starting with a digit): ignored',
      's.env:3: "1ABC" is not a valid secret name (letters, digits and _, not starting with a digit): ignored',
      's.env:4: "with-dash" is not a valid secret name (letters, digits and _, not starting with a digit): ignored',
    ]);
    expect(entries(text)).toEqual({ OK: '2' });
  });

  it('reports a name given again', () => {
    expect(warnings('A=1\nB=2\nA=3\nA=4\n')).toEqual([
      's.env:3: "A" is given again (first on line 1): the last value is used',
      's.env:4: "A" is given again (first on line 1): the last value is used',
    ]);
  });
});
