import type Dockerode from 'dockerode';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DockerEngine } from '../../../src/executors/docker/engine.js';
import {
  EXIT_CHECK_INTERVAL_MS,
  EXIT_CHECK_TIMEOUT_MS,
  waitForExit,
} from '../../../src/executors/docker/exit-watch.js';
import { EngineUnavailableError } from '../../../src/executors/types.js';

/** A real DockerEngine (its `call` and messages) over a dockerode stand-in that only has an address. */
const engine = new DockerEngine({
  docker: { modem: { socketPath: '/run/fake-docker.sock' } } as unknown as Dockerode,
});

/** A connection error as Node's net module makes them. */
function connectError(code: string): Error {
  return Object.assign(new Error(`connect ${code} /run/fake-docker.sock`), {
    code,
    syscall: 'connect',
  });
}

/** A container whose wait never answers (its connection lost) unless told, and whose inspect the test scripts. */
function fakeContainer(inspect: () => Promise<unknown>) {
  let answerWait: ((result: { StatusCode: number }) => void) | undefined;
  let failWait: ((error: unknown) => void) | undefined;
  let waitSignal: AbortSignal | undefined;
  const container = {
    wait: vi.fn((options: { abortSignal: AbortSignal }) => {
      waitSignal = options.abortSignal;
      return new Promise((resolve, reject) => {
        answerWait = resolve;
        failWait = reject;
      });
    }),
    inspect: vi.fn(inspect),
  };
  return {
    container: container as unknown as Dockerode.Container,
    inspectCalls: () => container.inspect.mock.calls.length,
    answerWait: (code: number) => answerWait?.({ StatusCode: code }),
    failWait: (error: unknown) => failWait?.(error),
    waitAborted: () => waitSignal?.aborted === true,
  };
}

const running = () => Promise.resolve({ State: { Running: true, ExitCode: 0 } });

/** The promise's outcome so far, without waiting. */
function track<T>(promise: Promise<T>) {
  const state: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { value, settled: true }),
    (error: unknown) => Object.assign(state, { error, settled: true }),
  );
  return state;
}

describe('waitForExit', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("resolves with the wait's exit code, and does not inspect a container that answers", async () => {
    const fake = fakeContainer(running);
    const outcome = track(
      waitForExit({
        engine,
        container: fake.container,
        what: 'step "a"',
        outputEnded: new Promise(() => {}),
      }),
    );
    await vi.advanceTimersByTimeAsync(100);
    fake.answerWait(3);
    await vi.advanceTimersByTimeAsync(0);
    expect(outcome).toEqual({ value: { exitCode: 3 }, settled: true });
    expect(fake.inspectCalls()).toBe(0);
  });

  it('keeps checking a running container, and never settles on its own', async () => {
    const fake = fakeContainer(running);
    const outcome = track(
      waitForExit({
        engine,
        container: fake.container,
        what: 'step "a"',
        outputEnded: new Promise(() => {}),
      }),
    );
    await vi.advanceTimersByTimeAsync(3 * EXIT_CHECK_INTERVAL_MS);
    expect(fake.inspectCalls()).toBe(3);
    expect(outcome.settled).toBe(false);
  });

  it('a lost wait: once the output ended and inspect says stopped twice, the exit code from inspect', async () => {
    const fake = fakeContainer(() => Promise.resolve({ State: { Running: false, ExitCode: 7 } }));
    const outcome = track(
      waitForExit({
        engine,
        container: fake.container,
        what: 'step "a"',
        outputEnded: Promise.resolve(),
      }),
    );
    await vi.advanceTimersByTimeAsync(199);
    expect(fake.inspectCalls()).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.inspectCalls()).toBe(1);
    // The wait gets a moment to answer first.
    expect(outcome.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(outcome).toEqual({ value: { exitCode: 7 }, settled: true });
    expect(fake.waitAborted()).toBe(true);
  });

  it('an engine that refuses connections at a check: EngineUnavailableError naming what ran', async () => {
    const fake = fakeContainer(() => Promise.reject(connectError('ECONNREFUSED')));
    const outcome = track(
      waitForExit({
        engine,
        container: fake.container,
        what: 'step "build"',
        outputEnded: new Promise(() => {}),
      }),
    );
    await vi.advanceTimersByTimeAsync(EXIT_CHECK_INTERVAL_MS);
    expect(outcome.error).toBeInstanceOf(EngineUnavailableError);
    const error = outcome.error as EngineUnavailableError;
    expect(error.message).toBe(
      'the Docker engine at /run/fake-docker.sock went away while step "build" was running (connect ECONNREFUSED /run/fake-docker.sock)',
    );
    expect(error.hint).toMatch(/agent run --resume/);
    expect(fake.waitAborted()).toBe(true);
  });

  it('an engine that does not answer a check: EngineUnavailableError after the check timeout', async () => {
    const fake = fakeContainer(() => new Promise(() => {}));
    const outcome = track(
      waitForExit({
        engine,
        container: fake.container,
        what: 'service "db"',
        outputEnded: new Promise(() => {}),
      }),
    );
    await vi.advanceTimersByTimeAsync(EXIT_CHECK_INTERVAL_MS + EXIT_CHECK_TIMEOUT_MS - 1);
    expect(outcome.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect((outcome.error as Error).message).toBe(
      'the Docker engine at /run/fake-docker.sock went away while service "db" was running (no answer within 30 s)',
    );
  });

  it('a wait cut off by a reset (socket hang up): EngineUnavailableError', async () => {
    const fake = fakeContainer(running);
    const outcome = track(
      waitForExit({
        engine,
        container: fake.container,
        what: 'step "a"',
        outputEnded: new Promise(() => {}),
      }),
    );
    fake.failWait(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    await vi.advanceTimersByTimeAsync(0);
    expect((outcome.error as Error).message).toMatch(
      /went away while step "a" was running \(socket hang up\)$/,
    );
  });

  it("the engine's own errors pass through: a wait refused with 500, a container gone (404)", async () => {
    const refused = fakeContainer(running);
    const refusedOutcome = track(
      waitForExit({
        engine,
        container: refused.container,
        what: 'step "a"',
        outputEnded: new Promise(() => {}),
      }),
    );
    const serverError = Object.assign(new Error('(HTTP code 500) server error'), {
      statusCode: 500,
    });
    refused.failWait(serverError);
    await vi.advanceTimersByTimeAsync(0);
    expect(refusedOutcome.error).toBe(serverError);

    const notFound = Object.assign(new Error('(HTTP code 404) no such container'), {
      statusCode: 404,
    });
    const gone = fakeContainer(() => Promise.reject(notFound));
    const goneOutcome = track(
      waitForExit({
        engine,
        container: gone.container,
        what: 'step "a"',
        outputEnded: Promise.resolve(),
      }),
    );
    await vi.advanceTimersByTimeAsync(200 + 1000);
    expect(goneOutcome.error).toBe(notFound);
  });

  it('an aborted signal ends the watch with its reason and frees the wait', async () => {
    const fake = fakeContainer(running);
    const controller = new AbortController();
    const outcome = track(
      waitForExit({
        engine,
        container: fake.container,
        what: 'service "db"',
        outputEnded: new Promise(() => {}),
        signal: controller.signal,
      }),
    );
    controller.abort(new Error('stopping'));
    await vi.advanceTimersByTimeAsync(0);
    expect((outcome.error as Error).message).toBe('stopping');
    expect(fake.waitAborted()).toBe(true);
    await vi.advanceTimersByTimeAsync(3 * EXIT_CHECK_INTERVAL_MS);
    expect(fake.inspectCalls()).toBe(0);
  });
});
