import { describe, expect, it } from 'vitest';
import {
  compareManifest,
  dockerfileQuote,
  entryCommand,
  generateDockerfile,
  generateManifest,
} from '../../../src/agentdev/dockerfile.js';
import {
  baseImageFor,
  parseBaseImages,
  parseDependency,
  parseRuntime,
} from '../../../src/agentdev/runtime.js';

describe('runtime', () => {
  it('parses a language with an optional version', () => {
    expect(parseRuntime('nodejs')).toEqual({ language: 'nodejs' });
    expect(parseRuntime('python:3.11')).toEqual({ language: 'python', version: '3.11' });
    expect(parseRuntime('node')).toBeUndefined();
    expect(parseRuntime('python:')).toBeUndefined();
    expect(parseRuntime('python:3 slim')).toBeUndefined();
  });

  it('picks the official language images, the version as the tag, and overrides', () => {
    expect(baseImageFor({ language: 'python' })).toBe('python:3.11-slim');
    expect(baseImageFor({ language: 'python', version: '3.12' })).toBe('python:3.12-slim');
    expect(baseImageFor({ language: 'nodejs' })).toBe('node:20');
    expect(baseImageFor({ language: 'go' })).toBe('golang:1.22');
    expect(baseImageFor({ language: 'rust' })).toBe('rust:1');
    expect(baseImageFor({ language: 'java', version: '17' })).toBe('eclipse-temurin:17-jdk');
    expect(baseImageFor({ language: 'nodejs', version: '18' }, { nodejs: 'local/node:20' })).toBe(
      'local/node:20',
    );
  });

  it('parses LANG=IMAGE overrides and names a bad one', () => {
    expect(parseBaseImages(['nodejs=node:20', 'python=py:3', 'nodejs=local/node:20'])).toEqual({
      nodejs: 'local/node:20',
      python: 'py:3',
    });
    expect(() => parseBaseImages(['node=node:20'])).toThrow(/unknown language "node"/);
    expect(() => parseBaseImages(['nodejs'])).toThrow(/expected LANG=IMAGE/);
  });

  it('checks dependencies in each language syntax', () => {
    const ok = (language: Parameters<typeof parseDependency>[0], spec: string) =>
      parseDependency(language, spec).ok;
    expect(ok('python', 'fastapi==0.104.0')).toBe(true);
    expect(ok('python', 'uvicorn[standard]>=0.24,<1')).toBe(true);
    expect(ok('python', "langdetect==1.0.9; python_version >= '3.8'")).toBe(true);
    expect(ok('python', 'requests')).toBe(true);
    expect(parseDependency('python', 'fastapi=0.104.0')).toMatchObject({
      ok: false,
      hint: 'pip pins a version with ==, e.g. fastapi==0.104.0',
    });
    expect(ok('nodejs', 'express@^4.18.0')).toBe(true);
    expect(ok('nodejs', '@types/node@^20')).toBe(true);
    expect(ok('nodejs', 'left-pad')).toBe(true);
    expect(parseDependency('nodejs', 'express==4.18.0')).toMatchObject({
      ok: false,
      hint: 'npm writes a version after @, e.g. express@4.18.0',
    });
    expect(ok('go', 'github.com/gin-gonic/gin@v1.9.1')).toBe(true);
    expect(ok('go', 'gin')).toBe(false);
    expect(ok('rust', 'serde@1.0')).toBe(true);
    expect(ok('java', 'com.google.code.gson:gson:2.10.1')).toBe(true);
    expect(ok('java', 'gson')).toBe(false);
  });
});

describe('entry command', () => {
  it('follows the conventions per language', () => {
    expect(entryCommand('python', new Set(['app.py', 'agent.py']))).toEqual(['python', 'app.py']);
    expect(entryCommand('nodejs', new Set(['server.js']))).toEqual(['node', 'server.js']);
    expect(entryCommand('nodejs', new Set(['index.js']), 'node x.js')).toEqual(['npm', 'start']);
    expect(entryCommand('go', new Set(['main.go']))).toEqual(['/usr/local/bin/agent']);
    expect(entryCommand('java', new Set(['Main.java']))).toEqual(['java', 'Main.java']);
    expect(entryCommand('java', new Set(['app.jar', 'Main.java']))).toEqual([
      'java',
      '-jar',
      'app.jar',
    ]);
    expect(entryCommand('python', new Set(['index.js']))).toBeUndefined();
  });
});

describe('manifests', () => {
  it('generates requirements.txt and package.json from dependencies', () => {
    expect(
      generateManifest({
        language: 'python',
        name: 'a',
        version: '1.0.0',
        dependencies: ['fastapi==0.104.0', ' httpx '],
      }),
    ).toBe('fastapi==0.104.0\nhttpx\n');
    const pkg = JSON.parse(
      generateManifest({
        language: 'nodejs',
        name: 'bot',
        version: 'latest',
        dependencies: ['express@^4.18.0', 'cors', '@scope/x@1'],
      }) ?? '',
    );
    expect(pkg).toEqual({
      name: 'bot',
      version: '0.0.0',
      private: true,
      dependencies: { express: '^4.18.0', cors: '*', '@scope/x': '1' },
    });
    expect(
      generateManifest({ language: 'java', name: 'a', version: '1', dependencies: [] }),
    ).toBeUndefined();
  });

  it('reports where dependencies and the folder manifest disagree', () => {
    expect(
      compareManifest(
        'python',
        ['FastAPI==0.104.0', 'uvicorn==0.24.0', 'openai'],
        '# pinned\nfastapi == 0.104.0\nuvicorn==0.23.0 # old\n-r more.txt\nhttpx\n',
      ),
    ).toEqual([
      {
        index: 1,
        message:
          '"uvicorn==0.24.0" disagrees with requirements.txt, which has "==0.23.0"; the image installs requirements.txt\'s',
      },
      {
        index: 2,
        message: '"openai" is not in requirements.txt, which is what the image installs',
      },
      {
        message: 'requirements.txt also installs "httpx", which "dependencies" does not list',
      },
    ]);
    expect(
      compareManifest('nodejs', ['express@^4.18.0'], '{"dependencies":{"express":"^4.18.0"}}'),
    ).toEqual([]);
    expect(compareManifest('nodejs', [], 'not json')).toHaveLength(1);
  });
});

describe('generateDockerfile', () => {
  it('writes a nodejs Dockerfile without an install step when nothing is installed', () => {
    expect(
      generateDockerfile({
        language: 'nodejs',
        baseImage: 'local/node:20',
        dependencies: [],
        installs: false,
        ports: [{ container: 3000, protocol: 'tcp' }],
        command: ['node', 'index.js'],
        env: [{ name: 'AGENT_CONFIG_FILE', value: '/etc/agent/config.json' }],
      }),
    ).toBe(
      [
        '# Generated by agentfile from an agent.dev/v1 agent; `agent build --print-dockerfile` shows it.',
        'FROM local/node:20',
        'WORKDIR /app',
        'COPY . .',
        'COPY .agentfile-build/config.json /etc/agent/config.json',
        'ENV AGENT_CONFIG_FILE="/etc/agent/config.json"',
        'EXPOSE 3000/tcp',
        'CMD ["node","index.js"]',
        '',
      ].join('\n'),
    );
  });

  it('installs the manifest before copying the source, per language', () => {
    const python = generateDockerfile({
      language: 'python',
      baseImage: 'python:3.11-slim',
      dependencies: ['fastapi==0.104.0'],
      installs: true,
      ports: [
        { container: 8080, protocol: 'tcp' },
        { container: 53, protocol: 'udp' },
      ],
      command: ['python', 'main.py'],
      env: [],
    });
    expect(python).toContain(
      'COPY requirements.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n',
    );
    expect(python).toContain('EXPOSE 8080/tcp\nEXPOSE 53/udp\n');
    const node = generateDockerfile({
      language: 'nodejs',
      baseImage: 'node:20',
      dependencies: ['express@^4'],
      installs: true,
      lockfile: true,
      ports: [],
      command: ['npm', 'start'],
      env: [],
    });
    expect(node).toContain(
      'COPY package.json package-lock.json ./\nRUN npm ci --omit=dev\nCOPY . .\n',
    );
    const go = generateDockerfile({
      language: 'go',
      baseImage: 'golang:1.22',
      dependencies: ['github.com/gin-gonic/gin@v1.9.1'],
      installs: true,
      ports: [],
      command: ['/usr/local/bin/agent'],
      env: [],
    });
    expect(go).toContain(
      'RUN go get github.com/gin-gonic/gin@v1.9.1\nRUN go build -o /usr/local/bin/agent .\n',
    );
  });

  it('quotes ENV values so the builder keeps them as written', () => {
    expect(dockerfileQuote('{"a":"$HOME \\\\ x"}\nnext')).toBe(
      '"{\\"a\\":\\"\\$HOME \\\\\\\\ x\\"}\\nnext"',
    );
  });
});
