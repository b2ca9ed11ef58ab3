/**
 * `policy/pull-local-image`: `pull: always` for an image no registry serves,
 * so every start fails or pulls something else. Local-only means: the spec
 * builds it (`build:`), or its reference starts with `local/` (no registry)
 * or `localhost/` without a port (Podman's prefix for local images; a
 * registry on localhost has a port, `localhost:5000/…`, and is not flagged).
 */

import { imageUses, parseImage } from './common.js';
import { policyRule } from './define.js';

/** Why an image is local-only, or undefined when a registry may serve it. */
export function localOnly(use: { image: string; built: boolean }): string | undefined {
  if (use.built) return 'is built from this repository by "build:"';
  const ref = parseImage(use.image);
  if (ref.registry === 'localhost') return 'names the local prefix "localhost/"';
  if (ref.registry === undefined && ref.repository.startsWith('local/')) {
    return 'names the local prefix "local/"';
  }
  return undefined;
}

/** The `policy/pull-local-image` rule, as described above. */
export const pullLocalImage = policyRule(
  'pull-local-image',
  'pull: always for an image that only exists locally',
  (ctx) => {
    for (const use of imageUses(ctx)) {
      if (use.pull !== 'always') continue;
      const why = localOnly(use);
      if (!why) continue;
      const at = [...use.at.slice(0, -1), 'pull'];
      ctx.report({
        at,
        message: `${use.subject} has "pull: always", but its image ${JSON.stringify(use.image)} ${why} and no registry serves it; use "pull: missing" or "pull: never"`,
      });
    }
  },
);
