import { describe, expect, it } from 'vitest';
import type { AgentSpec } from '../../../src/config/model.js';
import { startFailure } from '../../../src/executors/docker/containers.js';
import {
  containerName,
  formatBytes,
  imageAction,
  MAX_CONTAINER_NAME_LENGTH,
  runVolumeName,
  serviceCreateOptions,
  stepContainerName,
  stepCreateOptions,
} from '../../../src/executors/docker/create-options.js';

function agent(overrides: Partial<AgentSpec> = {}): AgentSpec {
  return {
    kind: 'Agent',
    name: 'web-agent',
    path: '/project/agent.yaml',
    source: { file: 'agent.yaml', line: 1, column: 1 },
    runtime: 'docker',
    image: 'local/busybox:latest',
    ports: [],
    environment: [],
    volumes: [],
    resources: { limits: {} },
    ...overrides,
  };
}

const ctx = { runId: 'r1', name: 'web', image: 'img:1', network: 'agentfile-r1', env: { A: '1' } };

describe('serviceCreateOptions', () => {
  it('keeps the existing fields: image, labels, env, alias, binds, ports', () => {
    const options = serviceCreateOptions(
      agent({
        command: ['httpd', '-f'],
        workdir: '/srv',
        ports: [
          { container: 80, host: 0, protocol: 'tcp' },
          { container: 80, host: 8080, protocol: 'tcp' },
          { container: 53, host: 5353, protocol: 'udp' },
        ],
        volumes: [
          { type: 'bind', source: '/host/data', target: '/data', readOnly: true },
          { type: 'bind', source: '/host/logs', target: '/logs', readOnly: false },
        ],
      }),
      ctx,
    );
    expect(options).toEqual({
      name: 'agentfile-r1-web',
      Image: 'img:1',
      Cmd: ['httpd', '-f'],
      WorkingDir: '/srv',
      Env: ['A=1'],
      Labels: {
        'agentfile.run': 'r1',
        'agentfile.step': 'web',
        'agentfile.kind': 'service',
        'agentfile.agent': 'web-agent',
      },
      ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      StopTimeout: 10,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      HostConfig: {
        NetworkMode: 'agentfile-r1',
        PortBindings: {
          '80/tcp': [
            { HostIp: '', HostPort: '' },
            { HostIp: '', HostPort: '8080' },
          ],
          '53/udp': [{ HostIp: '', HostPort: '5353' }],
        },
        Binds: ['/host/data:/data:ro', '/host/logs:/logs'],
        Init: true,
      },
      NetworkingConfig: { EndpointsConfig: { 'agentfile-r1': { Aliases: ['web'] } } },
    });
  });

  it('maps limits to NanoCpus and Memory, requests to CpuShares (1 CPU = 1024) and MemoryReservation', () => {
    const host = serviceCreateOptions(
      agent({
        resources: {
          limits: { nanoCpus: 1_500_000_000, memoryBytes: 33_554_432 },
          requests: { nanoCpus: 250_000_000, memoryBytes: 16_777_216 },
        },
      }),
      ctx,
    ).HostConfig;
    expect(host).toMatchObject({
      NanoCpus: 1_500_000_000,
      Memory: 33_554_432,
      CpuShares: 256,
      MemoryReservation: 16_777_216,
    });
    // Kubernetes' minimum: 2 shares, for a tiny request.
    const tiny = serviceCreateOptions(
      agent({ resources: { limits: {}, requests: { nanoCpus: 1_000_000 } } }),
      ctx,
    ).HostConfig;
    expect(tiny?.CpuShares).toBe(2);
    const none = serviceCreateOptions(agent(), ctx).HostConfig ?? {};
    for (const key of ['NanoCpus', 'Memory', 'CpuShares', 'MemoryReservation']) {
      expect(none).not.toHaveProperty(key);
    }
  });

  it('maps security to User, ReadonlyRootfs, CapAdd/CapDrop, Privileged, SecurityOpt', () => {
    const options = serviceCreateOptions(
      agent({
        security: {
          runAsUser: 1000,
          runAsGroup: 2000,
          readOnlyRootFilesystem: true,
          capabilities: { add: ['NET_ADMIN'], drop: ['CHOWN', 'ALL'] },
          privileged: true,
          noNewPrivileges: true,
        },
      }),
      ctx,
    );
    expect(options.User).toBe('1000:2000');
    expect(options.HostConfig).toMatchObject({
      ReadonlyRootfs: true,
      CapAdd: ['NET_ADMIN'],
      CapDrop: ['CHOWN', 'ALL'],
      Privileged: true,
      SecurityOpt: ['no-new-privileges:true'],
    });
    const off = {
      readOnlyRootFilesystem: false,
      capabilities: { add: [], drop: [] },
      privileged: false,
      noNewPrivileges: false,
    };
    const userOnly = serviceCreateOptions(agent({ security: { ...off, runAsUser: 7 } }), ctx);
    expect(userOnly.User).toBe('7');
    const groupOnly = serviceCreateOptions(agent({ security: { ...off, runAsGroup: 9 } }), ctx);
    expect(groupOnly.User).toBe('0:9');
    for (const key of ['ReadonlyRootfs', 'CapAdd', 'CapDrop', 'Privileged', 'SecurityOpt']) {
      expect(userOnly.HostConfig).not.toHaveProperty(key);
    }
    expect(serviceCreateOptions(agent(), ctx)).not.toHaveProperty('User');
  });

  it('maps named volumes and tmpfs to Mounts, binds to Binds', () => {
    const host = serviceCreateOptions(
      agent({
        volumes: [
          { type: 'volume', source: 'cache', target: '/cache', readOnly: false },
          { type: 'tmpfs', source: '', target: '/tmp', readOnly: false },
          { type: 'bind', source: '/h', target: '/b', readOnly: false },
          { type: 'volume', source: 'seed', target: '/seed', readOnly: true },
        ],
      }),
      ctx,
    ).HostConfig;
    expect(host?.Binds).toEqual(['/h:/b']);
    expect(host?.Mounts).toEqual([
      { Type: 'volume', Source: 'agentfile-r1-cache', Target: '/cache', ReadOnly: false },
      { Type: 'tmpfs', Source: '', Target: '/tmp' },
      { Type: 'volume', Source: 'agentfile-r1-seed', Target: '/seed', ReadOnly: true },
    ]);
    expect(runVolumeName('r1', 'cache')).toBe('agentfile-r1-cache');
  });

  it('network: bridge adds aliases to the run network; host and none leave it; dns', () => {
    const bridge = serviceCreateOptions(
      agent({ network: { mode: 'bridge', aliases: ['api', 'web'], dns: ['9.9.9.9'] } }),
      ctx,
    );
    expect(bridge.HostConfig?.NetworkMode).toBe('agentfile-r1');
    expect(bridge.HostConfig?.Dns).toEqual(['9.9.9.9']);
    expect(bridge.NetworkingConfig).toEqual({
      EndpointsConfig: { 'agentfile-r1': { Aliases: ['web', 'api'] } },
    });
    for (const mode of ['host', 'none'] as const) {
      const options = serviceCreateOptions(agent({ network: { mode, aliases: [], dns: [] } }), ctx);
      expect(options.HostConfig?.NetworkMode).toBe(mode);
      expect(options).not.toHaveProperty('NetworkingConfig');
      expect(options.HostConfig).not.toHaveProperty('Dns');
    }
  });

  it('init defaults to true; stopGracePeriod becomes StopTimeout in whole seconds, rounded up', () => {
    expect(serviceCreateOptions(agent({ init: false }), ctx).HostConfig?.Init).toBe(false);
    expect(serviceCreateOptions(agent({ stopGracePeriodMs: 2500 }), ctx).StopTimeout).toBe(3);
    expect(serviceCreateOptions(agent(), ctx).StopTimeout).toBe(10);
  });
});

describe('stepCreateOptions', () => {
  const step = {
    runId: 'r1',
    stepId: 'test',
    attempt: 2,
    image: 'img:1',
    command: ['sh', '-c', 'true'],
    env: { B: '2' },
    network: 'agentfile-r1',
  };

  it('keeps the existing fields: labels, alias, env, workdir, outputs mount', () => {
    expect(stepCreateOptions({ ...step, workdir: '/w', outputFile: '/runs/out' })).toEqual({
      name: 'agentfile-r1-test-2',
      Image: 'img:1',
      Cmd: ['sh', '-c', 'true'],
      Env: ['B=2'],
      WorkingDir: '/w',
      Labels: {
        'agentfile.run': 'r1',
        'agentfile.step': 'test',
        'agentfile.kind': 'step',
        'agentfile.attempt': '2',
      },
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      HostConfig: {
        NetworkMode: 'agentfile-r1',
        Mounts: [
          { Type: 'bind', Source: '/runs/out', Target: '/run/agent/output', ReadOnly: false },
        ],
      },
      NetworkingConfig: { EndpointsConfig: { 'agentfile-r1': { Aliases: ['test'] } } },
    });
  });

  it('takes resources and security when given', () => {
    const options = stepCreateOptions({
      ...step,
      resources: { limits: { memoryBytes: 33_554_432 } },
      security: {
        runAsUser: 1,
        readOnlyRootFilesystem: true,
        capabilities: { add: [], drop: ['CHOWN'] },
        privileged: false,
        noNewPrivileges: false,
      },
    });
    expect(options.User).toBe('1');
    expect(options.HostConfig).toEqual({
      NetworkMode: 'agentfile-r1',
      Memory: 33_554_432,
      ReadonlyRootfs: true,
      CapDrop: ['CHOWN'],
    });
  });
});

describe('container names', () => {
  it('joins and sanitizes parts', () => {
    expect(stepContainerName('r1', 'test (node=20, os=linux)', 1)).toBe(
      'agentfile-r1-test-node-20-os-linux-1',
    );
    expect(containerName('-x', 'a/b')).toBe('x-a-b');
  });

  it('cuts long names to 63 characters with a hash that keeps them distinct', () => {
    const a = stepContainerName('run', 'x'.repeat(80), 1);
    const b = stepContainerName('run', 'x'.repeat(80), 2);
    expect(a).toHaveLength(MAX_CONTAINER_NAME_LENGTH);
    expect(b).toHaveLength(MAX_CONTAINER_NAME_LENGTH);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^agentfile-run-x+-[0-9a-f]{8}$/);
  });
});

describe('imageAction (pull policy)', () => {
  it('always pulls, missing pulls when absent, never fails when absent', () => {
    expect(imageAction('always', true)).toBe('pull');
    expect(imageAction('always', false)).toBe('pull');
    expect(imageAction('missing', true)).toBe('use');
    expect(imageAction('missing', false)).toBe('pull');
    expect(imageAction('never', true)).toBe('use');
    expect(imageAction('never', false)).toBe('fail');
  });
});

describe('formatBytes and startFailure', () => {
  it('writes bytes as Kubernetes quantities', () => {
    expect(formatBytes(33_554_432)).toBe('32Mi');
    expect(formatBytes(1024)).toBe('1Ki');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3Gi');
    expect(formatBytes(1500)).toBe('1500');
  });

  it('names the host port of "port is already allocated"', () => {
    const error = {
      statusCode: 500,
      json: {
        message:
          'driver failed programming external connectivity on endpoint x (abc): Bind for 0.0.0.0:8080 failed: port is already allocated',
      },
    };
    expect(startFailure(error)).toBe(
      'host port 8080 is already in use (port is already allocated)',
    );
  });
});
