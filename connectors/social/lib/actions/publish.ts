import type { ActionContext } from 'atlas-engine/sdk';
import { defineAction } from 'atlas-engine/sdk';
import { NETWORKS } from '../../client.ts';
import { publishToLinkedIn } from '../networks/linkedin.ts';
import { publishToFacebook, publishToInstagram } from '../networks/meta.ts';
import { publishToTikTok } from '../networks/tiktok.ts';
import { publishToX } from '../networks/x.ts';
import type { Post, Published } from '../post.ts';

const PUBLISHERS: Record<Post['network'], (ctx: ActionContext, post: Post) => Promise<Published>> = {
  x: publishToX,
  linkedin: publishToLinkedIn,
  facebook: publishToFacebook,
  instagram: publishToInstagram,
  tiktok: publishToTikTok,
};

export const publish = defineAction<Post, Published>({
  id: 'publish',
  description:
    'Publish a post to X, LinkedIn, a Facebook Page, Instagram or TikTok with the tenant’s OAuth token.',
  jobType: 'SOCIAL_PUBLISH',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['network', 'text'],
    properties: {
      network: { enum: [...NETWORKS], description: 'Where to publish.' },
      text: {
        type: 'string',
        minLength: 1,
        description: 'Post text (X: 280 characters; TikTok: the video title).',
      },
      mediaUrl: {
        type: 'string',
        format: 'uri',
        description: 'Public image URL (Instagram) or video URL (TikTok).',
      },
      linkUrl: { type: 'string', format: 'uri', description: 'A link to share.' },
      author: {
        type: 'string',
        pattern: '^urn:li:(person|organization):',
        description: 'LinkedIn author URN.',
      },
      pageId: { type: 'string', description: 'Facebook Page id.' },
      igUserId: { type: 'string', description: 'Instagram professional account id.' },
      privacyLevel: {
        enum: ['PUBLIC_TO_EVERYONE', 'MUTUAL_FOLLOW_FRIENDS', 'FOLLOWER_OF_CREATOR', 'SELF_ONLY'],
        default: 'SELF_ONLY',
        description: 'TikTok visibility; unaudited TikTok apps may only post SELF_ONLY.',
      },
    },
    // What each network needs besides text (anyOf rather than if/then: one branch per network).
    anyOf: [
      { properties: { network: { const: 'x' } } },
      { properties: { network: { const: 'linkedin' } }, required: ['author'] },
      { properties: { network: { const: 'facebook' } }, required: ['pageId'] },
      { properties: { network: { const: 'instagram' } }, required: ['igUserId', 'mediaUrl'] },
      { properties: { network: { const: 'tiktok' } }, required: ['mediaUrl'] },
    ],
  },
  output: {
    type: 'object',
    required: ['network', 'id'],
    properties: {
      network: { enum: [...NETWORKS], description: 'Where it was published.' },
      id: {
        type: 'string',
        description: 'The network’s post id (TikTok: publish id, processed asynchronously).',
      },
      url: { type: 'string', description: 'Link to the post, when the network gives one.' },
    },
  },
  run: (ctx, post) => PUBLISHERS[post.network](ctx, post),
});
