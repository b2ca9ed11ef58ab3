/**
 * `policy/latest-tag`: an image without a tag, or tagged `latest`, and
 * without a digest: what runs changes whenever the tag moves. After
 * kube-linter's `latest-tag` check. Not applied to the image of a spec with
 * `build:` (it is the tag of an image built from this repository on every
 * run, so the repository pins it).
 */

import { imageUses, parseImage } from './common.js';
import { policyRule } from './define.js';

/** The `policy/latest-tag` rule, as described above. */
export const latestTag = policyRule(
  'latest-tag',
  'an image without a tag or with the latest tag',
  (ctx) => {
    for (const use of imageUses(ctx)) {
      if (use.built) continue;
      const ref = parseImage(use.image);
      if (ref.digest !== undefined) continue;
      if (ref.tag !== undefined && ref.tag !== 'latest') continue;
      const what =
        ref.tag === undefined ? 'has no tag (so it means "latest")' : 'is tagged "latest"';
      ctx.report({
        at: use.at,
        message: `the image ${JSON.stringify(use.image)} of ${use.subject} ${what}, which changes under you; pin a version tag, e.g. "${ref.registry ? `${ref.registry}/` : ''}${ref.repository}:1.2.3"`,
      });
    }
  },
);
