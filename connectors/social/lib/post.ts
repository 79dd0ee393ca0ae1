/** The network-neutral post and result shapes of `social.publish`. */
export interface Post {
  network: 'x' | 'linkedin' | 'facebook' | 'instagram' | 'tiktok';
  text: string;
  /** Public URL of an image (Instagram: required) or a video (TikTok: required). */
  mediaUrl?: string;
  linkUrl?: string;
  /** LinkedIn author URN (`urn:li:person:...` or `urn:li:organization:...`). */
  author?: string;
  /** Facebook Page id. */
  pageId?: string;
  /** Instagram professional account id. */
  igUserId?: string;
  /** TikTok privacy level, one the creator's account allows. */
  privacyLevel?: 'PUBLIC_TO_EVERYONE' | 'MUTUAL_FOLLOW_FRIENDS' | 'FOLLOWER_OF_CREATOR' | 'SELF_ONLY';
}

export interface Published {
  network: Post['network'];
  /** The network's id of the post (TikTok: the publish id; the post is processed asynchronously). */
  id: string;
  url?: string;
}
