import { describe, expect, it } from 'vitest';
import { failingStep } from '../../../src/cli/build-command.js';

describe('failingStep', () => {
  const dockerfile =
    'FROM node:20\nWORKDIR /app\nCOPY package.json ./\nRUN npm install   --omit=dev\n';
  it('finds the last step of the output and its Dockerfile line', () => {
    expect(
      failingStep(
        [
          'Step 1/4 : FROM node:20',
          ' ---> abc',
          'Step 4/4 : RUN npm install --omit=dev',
          'npm ERR! network',
        ],
        dockerfile,
      ),
    ).toEqual({ step: '4/4', instruction: 'RUN npm install --omit=dev', line: 4 });
  });
  it('has no line for an instruction the Dockerfile does not hold, nothing without steps', () => {
    expect(failingStep(['Step 2/2 : LABEL x=y'], dockerfile)).toEqual({
      step: '2/2',
      instruction: 'LABEL x=y',
    });
    expect(failingStep(['pull access denied'], dockerfile)).toBeUndefined();
  });
});
