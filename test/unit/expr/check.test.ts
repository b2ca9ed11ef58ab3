// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings under test are ${{ }} templates
import { describe, expect, it } from 'vitest';
import {
  CONTEXT_NAMES,
  checkCondition,
  checkTemplate,
  type ExprProblem,
  STEP_RESULT_STATUSES,
  type StaticScope,
} from '../../../src/expr/index.js';

const scope: StaticScope = {
  contexts: [...CONTEXT_NAMES],
  inputs: {
    count: { type: 'number' },
    dry: { type: 'boolean' },
    target: { type: 'choice', options: ['dev', 'prod'] },
    name: { type: 'string' },
  },
  steps: {
    build: { outputs: ['version', 'digest'], reachable: true },
    test: { reachable: true },
    deploy: { outputs: ['url'], reachable: false },
  },
  allSteps: ['build', 'test', 'deploy', 'notify'],
  services: ['db', 'cache'],
  matrix: ['os', 'node'],
  secrets: ['TOKEN'],
  statusFunctions: false,
};

/** The one problem of `text`, and the text it points at. */
function one(text: string, s: StaticScope = scope): ExprProblem & { at: string } {
  const problems = checkTemplate(text, s);
  expect(problems, text).toHaveLength(1);
  const p = problems[0] as ExprProblem;
  return { ...p, at: text.slice(p.offset, p.offset + p.length) };
}

describe('checkTemplate', () => {
  it('accepts what the scope declares', () => {
    const text = [
      '${{ inputs.count }} ${{ INPUTS.Name }} ${{ inputs }}',
      '${{ steps.build.outputs.version }} ${{ steps.build.status }} ${{ steps.test.outputs.any }}',
      "${{ steps['build'].outputs['digest'] }} ${{ steps.build }} ${{ toJSON(steps) }}",
      '${{ services.db.host }}:${{ services.cache.port }} ${{ services.db.url }}',
      '${{ matrix.os }} ${{ run.id }}-${{ run.attempt }} ${{ secrets.TOKEN }}',
      '${{ env.ANYTHING }} ${{ env }} ${{ matrix[inputs.name] }} ${{ steps.*.status }}',
      "${{ inputs.count == '3' }} ${{ inputs.dry == true }} ${{ inputs.dry != '1' }}",
      "${{ inputs.target == 'PROD' }} ${{ steps.build.status == 'Failed' }}",
      "${{ inputs.name == 'x' }} ${{ inputs.count == inputs.name }}",
    ].join('\n');
    expect(checkTemplate(text, scope)).toEqual([]);
  });

  it('reports an unclosed ${{ (expr/unclosed)', () => {
    expect(one('a ${{ inputs.count')).toMatchObject({
      code: 'expr/unclosed',
      offset: 2,
      length: 3,
      at: '${{',
    });
  });

  it('reports syntax errors at the token (expr/syntax)', () => {
    expect(one('echo ${{ inputs.count = 1 }}')).toMatchObject({
      code: 'expr/syntax',
      message: "unexpected symbol: '='",
      offset: 22,
      length: 1,
      at: '=',
    });
    expect(one('x ${{ }}')).toMatchObject({
      code: 'expr/syntax',
      message: 'an expression was expected',
      offset: 5,
      length: 1,
    });
  });

  it('reports an unknown function (expr/unknown-function)', () => {
    expect(one("${{ startswith(inputs.name, 'a') && statsWith('a', 'b') }}")).toMatchObject({
      code: 'expr/unknown-function',
      message: 'unknown function "statsWith"',
      offset: 36,
      at: 'statsWith',
      hint: 'did you mean "startsWith"?',
    });
  });

  it('reports an unknown context (expr/unknown-context)', () => {
    expect(one('${{ input.count }}')).toMatchObject({
      code: 'expr/unknown-context',
      message: 'unknown context "input"',
      offset: 4,
      length: 5,
      hint: 'did you mean "inputs"?',
    });
    expect(one('sha: ${{ github.sha }}')).toMatchObject({
      code: 'expr/unknown-context',
      message: 'unknown context "github"',
      offset: 9,
      at: 'github',
      hint: 'available here: "inputs", "env", "steps", "services", "matrix", "run", "secrets"',
    });
  });

  it('reports a context that exists but is not available in this field', () => {
    const workflowEnv: StaticScope = { ...scope, contexts: ['inputs', 'env'] };
    expect(one('v=${{ steps.build.outputs.version }}', workflowEnv)).toMatchObject({
      code: 'expr/unknown-context',
      message: 'context "steps" is not available here',
      offset: 6,
      length: 5,
      hint: 'available here: "inputs", "env"',
    });
    // The hint of an unknown name only offers what is available here.
    expect(one('${{ stepz.a }}', workflowEnv).hint).toBe('available here: "inputs", "env"');
    expect(one('${{ env.A }}', { ...scope, contexts: [] }).hint).toBe(
      'no context is available here',
    );
  });

  it('reports an unknown input (expr/unknown-input)', () => {
    expect(one('${{ inputs.cout }}')).toMatchObject({
      code: 'expr/unknown-input',
      message: 'unknown input "cout"',
      offset: 11,
      length: 4,
      hint: 'did you mean "count"?',
    });
    expect(one("${{ inputs['zzz'] }}")).toMatchObject({
      at: "'zzz'",
      hint: 'the inputs are "count", "dry", "target", "name"',
    });
    const { inputs: _none, ...noInputs } = scope;
    expect(one('${{ inputs.count }}', noInputs).hint).toBe('the workflow declares no inputs');
  });

  it('reports an unknown step (expr/unknown-step)', () => {
    expect(one('${{ steps.biuld.outputs.version }}')).toMatchObject({
      code: 'expr/unknown-step',
      message: 'unknown step "biuld"',
      offset: 10,
      length: 5,
      hint: 'did you mean "build"?',
    });
    expect(one('${{ steps.xyzzy }}').hint).toBe(
      'the steps are "build", "test", "deploy", "notify"',
    );
  });

  it('reports a step that is not a need (expr/not-a-need)', () => {
    expect(one('${{ steps.deploy.outputs.url }}')).toMatchObject({
      code: 'expr/not-a-need',
      message:
        'step "deploy" is not a need of this step, so its results do not exist yet when this is read',
      offset: 10,
      length: 6,
      hint: `add "deploy" to this step's "needs" (or to the needs of a step it needs)`,
    });
    expect(one("${{ steps['notify'].status }}")).toMatchObject({
      code: 'expr/not-a-need',
      at: "'notify'",
    });
  });

  it('reports an unknown step field (expr/unknown-step-field)', () => {
    expect(one('${{ steps.build.outptus.version }}')).toMatchObject({
      code: 'expr/unknown-step-field',
      message: 'a step has no field "outptus"',
      offset: 16,
      length: 7,
      hint: 'did you mean "outputs"?',
    });
    expect(one('${{ steps.build.outcome }}')).toMatchObject({
      code: 'expr/unknown-step-field',
      at: 'outcome',
      hint: `agentfile steps have "status" (one of "succeeded", "failed", "timed_out", "cancelled", "skipped") instead of GitHub's "outcome" and "conclusion"`,
    });
  });

  it('reports an undeclared output of a step that declares its outputs (expr/unknown-output)', () => {
    expect(one('${{ steps.build.outputs.versoin }}')).toMatchObject({
      code: 'expr/unknown-output',
      message: 'step "build" has no output "versoin"',
      offset: 24,
      length: 7,
      hint: 'did you mean "version"?',
    });
    expect(one("${{ steps.build.outputs['zzz'] }}").hint).toBe(
      'its outputs are "version", "digest"',
    );
  });

  it('reports unknown services and service fields', () => {
    expect(one('${{ services.dbb.host }}')).toMatchObject({
      code: 'expr/unknown-service',
      message: 'unknown service "dbb"',
      offset: 13,
      length: 3,
      hint: 'did you mean "db"?',
    });
    expect(one('${{ services.db.hots }}')).toMatchObject({
      code: 'expr/unknown-service-field',
      message: 'a service has no field "hots"',
      offset: 16,
      length: 4,
      hint: 'did you mean "host"?',
    });
    expect(one('${{ services.db.address }}').hint).toBe('a service has "host", "port", "url"');
  });

  it('reports an unknown matrix key (expr/unknown-matrix-key)', () => {
    expect(one('${{ matrix.nod }}')).toMatchObject({
      code: 'expr/unknown-matrix-key',
      message: 'unknown matrix key "nod"',
      offset: 11,
      length: 3,
      hint: 'did you mean "node"?',
    });
    const { matrix: _none, ...noMatrix } = scope;
    expect(one('${{ matrix.os }}', noMatrix).hint).toBe('this step has no matrix');
  });

  it('reports an unknown secret (expr/unknown-secret)', () => {
    expect(one('${{ secrets.TOKN }}')).toMatchObject({
      code: 'expr/unknown-secret',
      message: 'unknown secret "TOKN"',
      offset: 12,
      length: 4,
      hint: 'did you mean "TOKEN"?',
    });
  });

  it('reports a run field other than id and attempt (expr/unknown-run-field)', () => {
    expect(one('${{ run.number }}')).toMatchObject({
      code: 'expr/unknown-run-field',
      message: 'the run context has no field "number"',
      offset: 8,
      length: 6,
      hint: 'it has "id", "attempt"',
    });
  });

  it('reports status functions outside if: (expr/status-function-here)', () => {
    expect(one('${{ inputs.dry && always() }}')).toMatchObject({
      code: 'expr/status-function-here',
      message: 'always() is only available in "if:"',
      offset: 18,
      length: 6,
    });
    expect(checkTemplate('${{ success() }}', { ...scope, statusFunctions: true })).toEqual([]);
  });

  it('reports comparisons of a number or boolean input with a non-numeric string (expr/type)', () => {
    expect(one("${{ inputs.count == 'ten' }}")).toMatchObject({
      code: 'expr/type',
      message: `input "count" is a number and 'ten' is not, so this comparison is always false`,
      offset: 20,
      length: 5,
      at: "'ten'",
    });
    expect(one("${{ 'ten' != inputs.count }}")).toMatchObject({
      message: `input "count" is a number and 'ten' is not, so this comparison is always true`,
      offset: 4,
    });
    expect(one("${{ inputs.dry == 'true' }}")).toMatchObject({
      code: 'expr/type',
      message: `input "dry" is a boolean, which is compared with the string 'true' as a number (0 or 1), so this comparison is always false`,
      at: "'true'",
      hint: 'compare it with true or false, without quotes',
    });
  });

  it('reports a choice input compared with a value that is not an option (expr/type)', () => {
    expect(one("${{ inputs.target == 'prd' }}")).toMatchObject({
      code: 'expr/type',
      message: `'prd' is not an option of input "target", so this comparison is always false`,
      offset: 21,
      length: 5,
      hint: 'did you mean "prod"?',
    });
    expect(one('${{ inputs.target != 3 }}')).toMatchObject({
      at: '3',
      hint: 'its options are "dev", "prod"',
    });
  });

  it('reports a step status compared with a string that is not a status (expr/type)', () => {
    expect(STEP_RESULT_STATUSES).toEqual([
      'succeeded',
      'failed',
      'timed_out',
      'cancelled',
      'skipped',
    ]);
    expect(one("${{ steps.build.status == 'success' }}")).toMatchObject({
      code: 'expr/type',
      message: `'success' is not a step status, so this comparison is always false`,
      offset: 26,
      length: 9,
      hint: 'a step status is one of "succeeded", "failed", "timed_out", "cancelled", "skipped"',
    });
    expect(one("${{ steps['build']['status'] != 'timedout' }}")).toMatchObject({
      message: `'timedout' is not a step status, so this comparison is always true`,
      hint: 'did you mean "timed_out"?',
    });
  });

  it('points into multi-line sources (YAML block scalars)', () => {
    const text = "echo start\n${{\n  inputs.name == 'x' &&\n  steps.biuld.outputs.version\n}}\n";
    const p = one(text);
    expect(p).toMatchObject({ code: 'expr/unknown-step', at: 'biuld' });
    expect(p.offset).toBe(text.indexOf('biuld'));
  });

  it('reports every problem of every expression, in text order', () => {
    const text = '${{ matrix.nod }} ${{ inputs.x == secrets.Y }} ${{ a = }}';
    expect(
      checkTemplate(text, scope).map((p) => [p.code, text.slice(p.offset, p.offset + p.length)]),
    ).toEqual([
      ['expr/unknown-matrix-key', 'nod'],
      ['expr/unknown-input', 'x'],
      ['expr/unknown-secret', 'Y'],
      ['expr/syntax', '='],
    ]);
  });

  it('does not take `}}` in a string literal for the end', () => {
    expect(one("${{ format('}}{0}', inputs.cout) }}")).toMatchObject({
      code: 'expr/unknown-input',
      at: 'cout',
    });
  });
});

describe('checkCondition', () => {
  const ifScope: StaticScope = { ...scope, statusFunctions: true };

  it('checks a bare expression, with offsets into the text', () => {
    const text = "  steps.biuld.status == 'failed' && failure()";
    const problems = checkCondition(text, ifScope);
    expect(problems).toEqual([
      expect.objectContaining({ code: 'expr/unknown-step', offset: 8, length: 5 }),
    ]);
  });

  it('checks the expression of a lone ${{ }}', () => {
    const text = "${{ steps.build.status == 'succeded' }}";
    expect(checkCondition(text, ifScope)).toEqual([
      expect.objectContaining({
        code: 'expr/type',
        offset: 26,
        length: 10,
        hint: 'did you mean "succeeded"?',
      }),
    ]);
  });

  it('accepts blank text and status functions', () => {
    expect(checkCondition('', ifScope)).toEqual([]);
    expect(checkCondition('always()', ifScope)).toEqual([]);
    expect(checkCondition('${{ cancelled() }}', ifScope)).toEqual([]);
  });

  it('reports text around ${{ }} (expr/condition-always-true), and checks the expressions', () => {
    const text = ' ${{ inputs.dry }} == ${{ inputs.cout }}\n';
    expect(checkCondition(text, ifScope)).toEqual([
      {
        code: 'expr/condition-always-true',
        message:
          'the condition "${{ inputs.dry }} == ${{ inputs.cout }}" is always true: text around "${{ }}" makes it a string, and a non-empty string is true',
        offset: 1,
        length: 39,
        hint: 'put the whole condition in one "${{ }}", or write it without "${{ }}"',
      },
      expect.objectContaining({
        code: 'expr/unknown-input',
        offset: text.indexOf('cout'),
        length: 4,
      }),
    ]);
  });

  it('reports an unclosed ${{ and syntax errors', () => {
    expect(checkCondition('  ${{ inputs.dry', ifScope)).toEqual([
      expect.objectContaining({ code: 'expr/unclosed', offset: 2, length: 3 }),
    ]);
    expect(checkCondition('inputs.dry = true', ifScope)).toEqual([
      expect.objectContaining({ code: 'expr/syntax', offset: 11, length: 1 }),
    ]);
  });

  it('reports status functions where the caller does not allow them', () => {
    expect(checkCondition('success()', scope)).toEqual([
      expect.objectContaining({ code: 'expr/status-function-here', offset: 0, length: 7 }),
    ]);
  });
});
