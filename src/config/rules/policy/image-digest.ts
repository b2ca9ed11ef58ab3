/**
 * `policy/image-digest`: an image without a digest (`@sha256:…`). Off unless
 * `agent lint --strict` or `.agentlint.yaml` turns it on: a tag can be moved
 * to other content, a digest cannot. Not applied to the image of a spec with
 * `build:` (built from this repository) or with `pull: never` (a local
 * image; a digest names a registry's manifest, which a local image may not
 * have).
 */

import { imageUses, parseImage } from './common.js';
import { policyRule } from './define.js';

/** The `policy/image-digest` rule, as described above. */
export const imageDigest = policyRule(
  'image-digest',
  'an image without a digest (only with --strict)',
  (ctx) => {
    for (const use of imageUses(ctx)) {
      if (use.built || use.pullNever) continue;
      if (parseImage(use.image).digest !== undefined) continue;
      ctx.report({
        at: use.at,
        message: `the image ${JSON.stringify(use.image)} of ${use.subject} has no digest; pin it as "${use.image}@sha256:<digest>" (docker buildx imagetools inspect prints it)`,
      });
    }
  },
);
