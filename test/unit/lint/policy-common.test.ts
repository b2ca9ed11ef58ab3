import { describe, expect, it } from 'vitest';
import { parseSource } from '../../../src/config/load.js';
import type { DocumentRuleContext, Finding } from '../../../src/config/rules/index.js';
import { parseImage, secretLikeName } from '../../../src/config/rules/policy/common.js';
import { latestTag } from '../../../src/config/rules/policy/latest-tag.js';
import { entropy, secretKind } from '../../../src/config/rules/policy/secret-literal.js';

function check(rule: { check(ctx: DocumentRuleContext): void }, yaml: string): Finding[] {
  const doc = parseSource({ file: 'a.yaml', text: yaml }).documents[0];
  if (!doc) throw new Error('no document');
  const data = doc.data as Record<string, unknown>;
  const found: Finding[] = [];
  rule.check({
    doc,
    file: 'a.yaml',
    kind: data.kind as 'Agent' | 'Workflow',
    data,
    report: (f) => found.push(f),
  });
  return found;
}

describe('parseImage', () => {
  it('splits registry, repository, tag and digest', () => {
    expect(parseImage('node')).toEqual({ repository: 'node' });
    expect(parseImage('library/node:22')).toEqual({ repository: 'library/node', tag: '22' });
    expect(parseImage('localhost:5000/a/b:1@sha256:ab')).toEqual({
      registry: 'localhost:5000',
      repository: 'a/b',
      tag: '1',
      digest: 'sha256:ab',
    });
    expect(parseImage('ghcr.io/o/r')).toEqual({ registry: 'ghcr.io', repository: 'o/r' });
    expect(parseImage('localhost/tools:2')).toEqual({
      registry: 'localhost',
      repository: 'tools',
      tag: '2',
    });
  });
});

describe('secret detection', () => {
  it('recognises secret-looking names by word', () => {
    for (const n of ['GITHUB_TOKEN', 'db_password', 'OPENAI_API_KEY', 'CLIENT_SECRET', 'GH_PAT']) {
      expect(secretLikeName(n), n).toBe(true);
    }
    for (const n of ['PWD', 'TOKENIZER', 'KEYBOARD', 'PATH', 'PASSTHROUGH', 'API_URL']) {
      expect(secretLikeName(n), n).toBe(false);
    }
  });

  it('matches token formats under any name, entropy only under secret names', () => {
    expect(secretKind('X', 'AKIAIOSFODNN7EXAMPLE')).toBe('an AWS access key id');
    expect(secretKind('X', 'https://u:p4ss@example.com/db')).toBe('a URL with a password');
    expect(secretKind('X', 'https://u:${{ secrets.P }}@example.com')).toBeUndefined();
    expect(secretKind('X', 'https://example.com/a:b@c')).toBeUndefined();
    expect(secretKind('NOTE', '9fK2pQ7xL4mN8vB3zR6tY1wE5')).toBeUndefined();
    expect(secretKind('API_KEY', '9fK2pQ7xL4mN8vB3zR6tY1wE5')).toBe('a high-entropy secret');
    expect(secretKind('API_KEY', 'aaaaaaaaaaaaaaaaaaaa')).toBeUndefined();
    expect(secretKind('API_KEY', 'short')).toBeUndefined();
    expect(secretKind('API_TOKEN', '$API_TOKEN_FROM_ELSEWHERE')).toBeUndefined();
    expect(entropy('abab')).toBe(1);
  });
});

describe('image rules', () => {
  it('skip images with expressions and images built by build:', () => {
    const found = check(
      latestTag,
      `apiVersion: agentfile/v1
kind: Workflow
metadata: { name: w }
spec:
  services:
    app: { build: { context: . }, image: app }
  steps:
    a: { image: "\${{ inputs.image }}", run: x }
    b: { image: node, run: x }
`,
    );
    expect(found.map((f) => f.at.join('.'))).toEqual(['spec.steps.b.image']);
  });
});
