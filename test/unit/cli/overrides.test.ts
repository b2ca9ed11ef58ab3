import { describe, expect, it } from 'vitest';
import { applyOverrides } from '../../../src/cli/overrides.js';
import { service, workflow } from '../plan/fixtures.js';

describe('docker run style overrides of a single agent', () => {
  const base = workflow({ services: [service('api')], name: 'api' });

  it('replaces a published port, sets variables, adds bind mounts and renames', () => {
    const out = applyOverrides(
      base,
      {
        publish: ['9090:8080', '5353:53/udp'],
        env: ['LOG_LEVEL=debug', 'NEW=a=b'],
        volume: ['./data:/data:ro', '/abs:/abs'],
        name: 'api-2',
      },
      '/work/dir',
    );
    expect(Object.keys(out.services)).toEqual(['api-2']);
    expect(out.name).toBe('api-2');
    const agent = out.services['api-2']?.agent;
    expect(agent?.name).toBe('api-2');
    expect(agent?.ports).toEqual([
      { container: 8080, host: 9090, protocol: 'tcp' },
      { container: 53, host: 5353, protocol: 'udp' },
    ]);
    expect(agent?.environment).toEqual([
      { name: 'LOG_LEVEL', value: 'debug' },
      { name: 'API_KEY', from: 'env' },
      { name: 'NEW', value: 'a=b' },
    ]);
    expect(agent?.volumes).toEqual([
      { type: 'bind', source: '/work/dir/data', target: '/data', readOnly: true },
      { type: 'bind', source: '/abs', target: '/abs', readOnly: false },
    ]);
    // The input is left as it was.
    expect(base.services.api?.agent.ports).toEqual([{ container: 8080, host: 0, protocol: 'tcp' }]);
  });

  it('returns the workflow itself without overrides, and refuses bad flags or several agents', () => {
    expect(applyOverrides(base, { publish: [], env: [], volume: [] }, '/')).toBe(base);
    expect(() => applyOverrides(base, { publish: ['8080'] }, '/')).toThrow(
      '-p 8080: expected HOST:CONTAINER, e.g. -p 8080:80',
    );
    expect(() => applyOverrides(base, { env: ['=x'] }, '/')).toThrow('-e =x: expected KEY=VALUE');
    expect(() => applyOverrides(base, { volume: ['a:relative'] }, '/')).toThrow(
      '-v a:relative: expected SRC:DST or SRC:DST:ro, DST absolute',
    );
    const two = workflow({ services: [service('a'), service('b')] });
    expect(() => applyOverrides(two, { name: 'x' }, '/')).toThrow(
      '-p, -e, -v and --name apply to a file with one agent; this one has 2',
    );
  });
});
