import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { AgentSpec } from '../../../src/config/model.js';
import {
  DockerEngine,
  DockerExecutor,
  DockerServiceRunner,
} from '../../../src/executors/docker.js';
import { ImageBuildError } from '../../../src/executors/errors.js';
import { MAX_LINE_BYTES, parseLog, streamBytesOfLog } from '../../../src/executors/output.js';
import {
  type AttemptSpec,
  CONTAINER_OUTPUT_PATH,
  LABEL_RUN,
  type OutputStream,
  type ServiceHandle,
  ServiceStartError,
} from '../../../src/executors/types.js';
import { readOutputFile } from '../../../src/run/step-outputs.js';
import { describeDocker } from '../../helpers/docker.js';
import { waitFor } from '../../helpers/processes.js';
import { literalRedactor } from '../../helpers/redactor.js';

const BUSYBOX = 'local/busybox:latest';
const SECRET = 'hunter2';
const redact = literalRedactor([SECRET]);
const runId = `test-io-${randomBytes(4).toString('hex')}`;
const docker = new Dockerode();
const engine = new DockerEngine({ docker });
let dir: string;
let network: string;
let counter = 0;
const handles: ServiceHandle[] = [];
const builtImages: string[] = [];

function attempt(command: string[], overrides: Partial<AttemptSpec> = {}): AttemptSpec {
  counter += 1;
  return {
    runId,
    stepId: `step-${counter}`,
    attempt: 1,
    command,
    image: BUSYBOX,
    env: {},
    signal: new AbortController().signal,
    logFile: join(dir, 'logs', `step-${counter}.log`),
    ...overrides,
  };
}

function dockerAgent(overrides: Partial<AgentSpec>): AgentSpec {
  return {
    kind: 'Agent',
    name: 'svc',
    path: join(dir, 'agent.yaml'),
    source: { file: 'agent.yaml', line: 1, column: 1 },
    runtime: 'docker',
    image: BUSYBOX,
    ports: [],
    environment: [],
    volumes: [],
    resources: { limits: {} },
    ...overrides,
  };
}

/** Lines given to onOutput. */
function collector(): { lines: [OutputStream, string][]; onOutput: AttemptSpec['onOutput'] } {
  const lines: [OutputStream, string][] = [];
  return { lines, onOutput: (stream, line) => lines.push([stream, line]) };
}

async function runContainers(): Promise<string[]> {
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL_RUN}=${runId}`] },
  });
  return list.map((c) => c.Id);
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describeDocker('Docker executors: outputs file, secret files, masking', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agentfile-docker-io-'));
    network = await engine.createRunNetwork(runId);
  });

  afterAll(async () => {
    await Promise.all(handles.map((h) => h.stop(1000)));
    await engine.removeRunLeftovers(runId);
    for (const image of builtImages) {
      await docker
        .getImage(image)
        .remove({ force: true })
        .catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
  });

  test('a container step writes NAME=VALUE and a heredoc to $AGENT_OUTPUT; the host file parses to them', async () => {
    const executor = new DockerExecutor({ engine, network });
    // The executor creates a missing file (and its directory), mode 0666.
    const outputFile = join(dir, 'outputs', 'step', 'out');
    const { lines, onOutput } = collector();
    const result = await executor.runAttempt(
      attempt(
        [
          'sh',
          '-c',
          'echo "$AGENT_OUTPUT"; echo version=1.2.3 >> "$AGENT_OUTPUT"; printf \'notes<<EOF\\nline one\\n  line two\\nEOF\\n\' >> "$AGENT_OUTPUT"',
        ],
        { outputFile, env: { AGENT_OUTPUT: '/nowhere' }, onOutput },
      ),
    );
    expect(result).toMatchObject({ exitCode: 0 });
    expect(lines).toEqual([['stdout', CONTAINER_OUTPUT_PATH]]);
    expect(CONTAINER_OUTPUT_PATH).toBe('/run/agent/output');
    expect((await stat(outputFile)).mode & 0o777).toBe(0o666);
    expect(await readOutputFile(outputFile)).toEqual({
      outputs: { version: '1.2.3', notes: 'line one\n  line two' },
    });
    expect(await runContainers()).toEqual([]);
  });

  test('a non-root user in the container writes the outputs file and reads the secret files', async () => {
    const executor = new DockerExecutor({ engine, network });
    const outputFile = join(dir, 'nobody.out');
    await writeFile(outputFile, '');
    const result = await executor.runAttempt(
      attempt(
        [
          // The image has no `su` link; busybox runs its applet.
          'busybox',
          'su',
          'nobody',
          '-s',
          '/bin/sh',
          '-c',
          'echo "uid=$(id -u)" >> "$AGENT_OUTPUT"; echo "token=$(cat /run/secrets/token)" >> "$AGENT_OUTPUT"',
        ],
        { outputFile, secretFiles: [{ name: 'token', value: SECRET }] },
      ),
    );
    expect(result).toMatchObject({ exitCode: 0 });
    expect(await readOutputFile(outputFile)).toEqual({
      outputs: { uid: '65534', token: SECRET },
    });
  });

  test('secret files are /run/secrets/<name>, mode 0444, owner root; their content is exact, their output masked', async () => {
    const executor = new DockerExecutor({ engine, network });
    const outputFile = join(dir, 'secrets.out');
    const multiline = 'line 1\nline 2 €\n';
    const { lines, onOutput } = collector();
    const spec = attempt(
      [
        'sh',
        '-c',
        [
          'cat /run/secrets/token; echo',
          'echo "token=$(sha256sum /run/secrets/token | cut -d" " -f1)" >> "$AGENT_OUTPUT"',
          'echo "multi=$(sha256sum /run/secrets/multi | cut -d" " -f1)" >> "$AGENT_OUTPUT"',
          'echo "mode=$(stat -c "%a %u %g" /run/secrets/token)" >> "$AGENT_OUTPUT"',
          'echo "dir=$(stat -c "%a %u" /run/secrets)" >> "$AGENT_OUTPUT"',
        ].join('; '),
      ],
      {
        outputFile,
        // A name given twice keeps its last value.
        secretFiles: [
          { name: 'token', value: 'first' },
          { name: 'multi', value: multiline },
          { name: 'token', value: SECRET },
        ],
        redact,
        onOutput,
      },
    );
    const result = await executor.runAttempt(spec);
    expect(result).toMatchObject({ exitCode: 0 });
    expect(await readOutputFile(outputFile)).toEqual({
      outputs: {
        token: sha256(SECRET),
        multi: sha256(multiline),
        mode: '444 0 0',
        dir: '755 0',
      },
    });
    expect(lines).toEqual([['stdout', '***']]);
    const log = await readFile(spec.logFile, 'utf8');
    expect(log).toBe('stdout| ***\n');
  });

  test('an invalid secret file name fails the attempt before any container exists', async () => {
    const executor = new DockerExecutor({ engine, network });
    for (const name of ['../escape', '', '..', 'a/b']) {
      const result = await executor.runAttempt(
        attempt(['true'], { secretFiles: [{ name, value: SECRET }] }),
      );
      expect(result.exitCode).toBeNull();
      expect(result.error).toMatch(/^invalid secret file name /);
    }
    expect(await runContainers()).toEqual([]);
  });

  test('container output is masked: a value in two writes, and one across the 64 KiB cut of a long line', async () => {
    const executor = new DockerExecutor({ engine, network });
    const { lines, onOutput } = collector();
    const split = attempt(
      ['sh', '-c', "printf 'pw: hun'; sleep 0.2; printf 'ter2 ok\\n'; echo 'err hunter2' >&2"],
      { onOutput, redact },
    );
    expect((await executor.runAttempt(split)).exitCode).toBe(0);
    expect(lines).toEqual(
      expect.arrayContaining([
        ['stdout', 'pw: *** ok'],
        ['stderr', 'err ***'],
      ]),
    );
    expect(lines).toHaveLength(2);
    expect(await readFile(split.logFile, 'utf8')).not.toContain(SECRET);

    const before = MAX_LINE_BYTES - 3;
    const line = `${'a'.repeat(before)}${SECRET}${'b'.repeat(1000)}`;
    const long = collector();
    const spec = attempt(
      [
        'sh',
        '-c',
        `head -c ${before} /dev/zero | tr '\\0' a; printf hun; sleep 0.2; printf ter2; head -c 1000 /dev/zero | tr '\\0' b; echo`,
      ],
      { onOutput: long.onOutput, redact },
    );
    expect((await executor.runAttempt(spec)).exitCode).toBe(0);
    const log = await readFile(spec.logFile);
    expect(log.includes('hun')).toBe(false);
    const records = parseLog(log);
    expect(records.length).toBeGreaterThan(1);
    for (const record of records) expect(record.content.length).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(streamBytesOfLog(log, 'stdout').toString()).toBe(`${redact.redact(line)}\n`);
    const shown = long.lines.map(([, l]) => l);
    expect(shown.join('')).toBe(redact.redact(line));
    for (const piece of shown) expect(piece).not.toContain('hun');
  });

  test('a docker service gets its secret files; its log, listener, logTail and probe output are masked', async () => {
    const runner = new DockerServiceRunner({ engine, network });
    const logFile = join(dir, 'services', 'keeper.log');
    const shown: string[] = [];
    const handle = await runner.startService({
      runId,
      name: 'keeper',
      agent: dockerAgent({
        name: 'keeper',
        command: ['sh', '-c', 'echo "token: $(cat /run/secrets/token)"; exec sleep 300'],
      }),
      env: {},
      logFile,
      signal: new AbortController().signal,
      onOutput: (_stream, line) => shown.push(line),
      secretFiles: [{ name: 'token', value: SECRET }],
      redact,
    });
    handles.push(handle);
    await waitFor(() => handle.logTail(10).length > 0);
    expect(handle.logTail(10)).toEqual(['token: ***']);
    expect(shown).toEqual(['token: ***']);
    const probe = await handle.exec(['sh', '-c', 'cat /run/secrets/token; exit 3'], 5000);
    expect(probe).toEqual({ exitCode: 3, output: '***' });
    const exact = await handle.exec(
      ['sh', '-c', `test "$(cat /run/secrets/token)" = ${SECRET}`],
      5000,
    );
    expect(exact.exitCode).toBe(0);
    await handle.stop(0);
    expect(await readFile(logFile, 'utf8')).toBe('stdout| token: ***\n');
  });

  test('a service with an invalid secret file name is a ServiceStartError and leaves no container', async () => {
    const runner = new DockerServiceRunner({ engine, network });
    const before = (await runContainers()).length;
    const error = await runner
      .startService({
        runId,
        name: 'bad',
        agent: dockerAgent({ name: 'bad', command: ['sleep', '300'] }),
        env: {},
        logFile: join(dir, 'services', 'bad.log'),
        signal: new AbortController().signal,
        secretFiles: [{ name: 'a/b', value: SECRET }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceStartError);
    expect((error as Error).message).toBe(
      'service "bad": invalid secret file name "a/b": contains "/" or NUL',
    );
    expect((await runContainers()).length).toBe(before);
  });

  test('the build output of a failing image build is masked in its ImageBuildError and the log', async () => {
    const context = join(dir, 'leaky-context');
    await mkdir(context, { recursive: true });
    await writeFile(
      join(context, 'Dockerfile'),
      `FROM local/busybox:latest\nRUN echo "building ${runId} with ${SECRET}" && exit 2\n`,
    );
    const runner = new DockerServiceRunner({ engine, network });
    const logFile = join(dir, 'services', 'leaky.log');
    const error = await runner
      .startService({
        runId,
        name: 'leaky',
        agent: dockerAgent({
          name: 'leaky',
          image: undefined,
          build: { context, dockerfile: 'Dockerfile', args: {} },
        }),
        env: {},
        logFile,
        signal: new AbortController().signal,
        redact,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageBuildError);
    const message = (error as ImageBuildError).message;
    expect(message).toContain(`building ${runId} with ***`);
    expect(message).not.toContain(SECRET);
    expect((error as ImageBuildError).output.join('\n')).not.toContain(SECRET);
    const log = await readFile(logFile, 'utf8');
    expect(log).toContain(`building ${runId} with ***`);
    expect(log).not.toContain(SECRET);
  });
});
