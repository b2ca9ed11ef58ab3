import { describe, expect, it } from 'vitest';
import type { InputSpec } from '../../../src/config/model.js';
import { parseInputPairs, resolveInputs } from '../../../src/plan/inputs.js';

const source = { file: 'w.yaml', line: 1, column: 1 };
const input = (name: string, extra: Partial<InputSpec> = {}): InputSpec => ({
  name,
  source,
  type: 'string',
  required: false,
  ...extra,
});
const specs: Record<string, InputSpec> = {
  target: input('target', { type: 'choice', options: ['dev', 'prod'], default: 'dev' }),
  shards: input('shards', { type: 'number', default: 2 }),
  dry: input('dry', { type: 'boolean' }),
  note: input('note'),
  version: input('version', { required: true }),
};

describe('inputs', () => {
  it('coerces given values and fills in defaults and empty values', () => {
    expect(resolveInputs(specs, { version: '1.2', shards: '4', dry: 'TRUE' })).toEqual({
      ok: true,
      values: { target: 'dev', shards: 4, dry: true, note: '', version: '1.2' },
    });
    expect(resolveInputs(specs, { version: 1, target: 'prod', dry: false })).toEqual({
      ok: true,
      values: { target: 'prod', shards: 2, dry: false, note: '', version: '1' },
    });
  });

  it('names every problem at once', () => {
    expect(
      resolveInputs(specs, { target: 'staging', shards: 'many', dry: 'yes', tagret: 'x' }),
    ).toEqual({
      ok: false,
      problems: [
        'input "target" must be one of "dev", "prod", got "staging"',
        'input "shards" must be a number, got "many"',
        'input "dry" must be true or false, got "yes"',
        'missing required input "version"',
        'unknown input "tagret"; did you mean "target"?',
      ],
    });
    expect(resolveInputs({}, { x: '1' })).toEqual({
      ok: false,
      problems: ['unknown input "x"; the workflow declares no inputs'],
    });
  });

  it('parses -i NAME=VALUE, keeping "=" in values', () => {
    expect(parseInputPairs(['a=1', 'b=x=y', 'a=2', 'c='])).toEqual({
      ok: true,
      values: { a: '2', b: 'x=y', c: '' },
    });
    expect(parseInputPairs(['target', '=x'])).toEqual({
      ok: false,
      problems: ['-i "target": expected NAME=VALUE', '-i "=x": expected NAME=VALUE'],
    });
  });
});
