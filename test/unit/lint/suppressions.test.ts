import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../../src/config/diagnostics.js';
import { applySuppressions, readSuppressions } from '../../../src/lint/suppressions.js';

const at = (line: number, code = 'policy/latest-tag'): Diagnostic => ({
  code,
  severity: 'warning',
  message: 'm',
  file: 'a.yaml',
  line,
  column: 3,
});

describe('readSuppressions', () => {
  it('reads trailing and standalone comments, comma lists and reasons', () => {
    const text = [
      'a: 1 # agent-lint-ignore policy/latest-tag pinned by CI',
      '# agent-lint-ignore policy/latest-tag, policy/image-digest -- local image',
      'b: 2',
    ].join('\n');
    expect(readSuppressions(text)).toEqual([
      {
        line: 1,
        column: 6,
        endColumn: 56,
        rules: ['policy/latest-tag'],
        reason: 'pinned by CI',
        appliesTo: 1,
      },
      {
        line: 2,
        column: 1,
        endColumn: 74,
        rules: ['policy/latest-tag', 'policy/image-digest'],
        reason: 'local image',
        appliesTo: 3,
      },
    ]);
  });

  it('ignores # inside quoted strings and block scalars', () => {
    const text = [
      'a: "# agent-lint-ignore policy/latest-tag quoted"',
      "b: '# agent-lint-ignore policy/latest-tag single'",
      'c: |',
      '  # agent-lint-ignore policy/latest-tag in a block scalar',
      '  more',
      'd: x#agent-lint-ignore policy/latest-tag not a comment without a space',
    ].join('\n');
    expect(readSuppressions(text)).toEqual([]);
  });

  it('reads comments in flow collections and after sequence items', () => {
    const text = [
      'list:',
      '  - x # agent-lint-ignore policy/host-path why',
      '  - { a: 1 } # agent-lint-ignore policy/privileged why',
    ].join('\n');
    expect(readSuppressions(text).map((s) => [s.appliesTo, s.rules[0]])).toEqual([
      [2, 'policy/host-path'],
      [3, 'policy/privileged'],
    ]);
  });
});

describe('applySuppressions', () => {
  const text = [
    'x: 1',
    '# agent-lint-ignore policy/latest-tag reason', // suppresses line 3
    'image: a',
    'image: b # agent-lint-ignore policy/latest-tag', // no reason: suppresses nothing
  ].join('\n');

  it('drops suppressed diagnostics, keeps the rest, reports a missing reason', () => {
    const r = applySuppressions({
      file: 'a.yaml',
      text,
      diagnostics: [at(3), at(4), at(3, 'policy/privileged'), { ...at(3), file: 'b.yaml' }],
      enabled: () => true,
    });
    expect(r.kept.map((d) => `${d.file}:${d.line} ${d.code}`)).toEqual([
      'a.yaml:4 policy/latest-tag',
      'a.yaml:3 policy/privileged',
      'b.yaml:3 policy/latest-tag',
    ]);
    expect(r.problems.map((p) => `${p.line}:${p.column} ${p.code}`)).toEqual([
      '4:10 lint/invalid-suppression',
    ]);
  });

  it('reports an unused suppression only for an enabled rule', () => {
    const unused = applySuppressions({
      file: 'a.yaml',
      text,
      diagnostics: [],
      enabled: () => true,
    });
    expect(unused.problems.map((p) => `${p.line} ${p.code}`).sort()).toEqual([
      '2 lint/unused-suppression',
      '4 lint/invalid-suppression',
    ]);
    const off = applySuppressions({ file: 'a.yaml', text, diagnostics: [], enabled: () => false });
    expect(off.problems.map((p) => `${p.line} ${p.code}`)).toEqual(['4 lint/invalid-suppression']);
  });
});
