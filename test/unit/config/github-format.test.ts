import { describe, expect, it } from 'vitest';
import { type Diagnostic, formatDiagnosticGithub } from '../../../src/config/diagnostics.js';

const d: Diagnostic = {
  code: 'schema/unknown-key',
  severity: 'error',
  message: 'unknown key "runn"; did you mean "run"?',
  file: 'ci/agent.yaml',
  line: 7,
  column: 7,
  endLine: 7,
  endColumn: 11,
};

describe('formatDiagnosticGithub', () => {
  it('is an Actions workflow command with the position and the rule as title', () => {
    expect(formatDiagnosticGithub(d)).toBe(
      '::error file=ci/agent.yaml,line=7,col=7,endLine=7,endColumn=11,title=schema/unknown-key::unknown key "runn"; did you mean "run"?',
    );
  });

  it('escapes what the runner would otherwise parse, and puts the hint on a second line', () => {
    const tricky: Diagnostic = {
      ...d,
      severity: 'warning',
      file: 'a,b:c.yaml',
      message: '100% wrong\nreally',
      hint: 'fix it',
      endLine: undefined,
      endColumn: undefined,
    };
    expect(formatDiagnosticGithub(tricky)).toBe(
      '::warning file=a%2Cb%3Ac.yaml,line=7,col=7,title=schema/unknown-key::100%25 wrong%0Areally%0Ahint: fix it',
    );
  });
});
