import { nearest } from '../../suggest.js';
import type { Rule } from '../rule.js';
import { agentSpecs, dig } from '../specs.js';

/** Linux capability names (capabilities(7)), as Docker takes them: without `CAP_`. */
export const CAPABILITIES = [
  'ALL',
  'AUDIT_CONTROL',
  'AUDIT_READ',
  'AUDIT_WRITE',
  'BLOCK_SUSPEND',
  'BPF',
  'CHECKPOINT_RESTORE',
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'IPC_LOCK',
  'IPC_OWNER',
  'KILL',
  'LEASE',
  'LINUX_IMMUTABLE',
  'MAC_ADMIN',
  'MAC_OVERRIDE',
  'MKNOD',
  'NET_ADMIN',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_RAW',
  'PERFMON',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_CHROOT',
  'SYS_MODULE',
  'SYS_NICE',
  'SYS_PACCT',
  'SYS_PTRACE',
  'SYS_RAWIO',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'SYSLOG',
  'WAKE_ALARM',
] as const;

/** `agent/capability`: an added or dropped capability that is not a Linux capability, with a did-you-mean. */
export const capabilityRule: Rule = {
  id: 'agent/capability',
  category: 'agent',
  docs: 'agents',
  summary: 'a Linux capability that does not exist',
  severity: 'error',
  check(ctx) {
    for (const { spec, path } of agentSpecs(ctx)) {
      for (const key of ['add', 'drop']) {
        const list = dig(spec, ['security', 'capabilities', key]);
        if (!Array.isArray(list)) continue;
        list.forEach((cap, i) => {
          if (typeof cap !== 'string' || !/^[A-Za-z_]+$/.test(cap)) return;
          const name = cap.toUpperCase().replace(/^CAP_/, '');
          if ((CAPABILITIES as readonly string[]).includes(name)) return;
          const near = nearest(name, CAPABILITIES);
          ctx.report({
            at: [...path, 'security', 'capabilities', key, String(i)],
            message: `unknown capability ${JSON.stringify(cap)}${near ? `; did you mean ${JSON.stringify(near)}?` : ''}`,
            hint: 'capability names are those of capabilities(7) without "CAP_", e.g. CHOWN, NET_ADMIN, or ALL',
          });
        });
      }
    }
  },
};
