// Previews inside a message (issue 20): the picture of a PDF's first page or of a video's poster
// frame on its download card, made by the server as the file's thumbnail and shown by its signed
// URL; and the card of a link's preview (title, description, site, image), all set as text or as
// checked attributes, never as markup.

import { h } from './dom.js';
import { safeUrl } from '../sdk/markdown.js';

/// The preview picture of a file that is not an image, or null when it has none.
export function filePreview(m, client) {
  const a = m.attachment;
  if (!a || !a.thumbnail_url || m._pending || !client) return null;
  const img = h('img.file-preview', { alt: `Preview of ${a.file_name || 'the file'}`, decoding: 'async', loading: 'lazy' });
  client.fileUrl(m, { thumbnail: true }).then((u) => { img.src = u; }).catch(() => img.remove());
  return img;
}

/// The card of a message's link preview, or null.
export function linkPreview(m) {
  const p = m && !m.is_deleted && m.link_preview;
  const href = p && safeUrl(p.url);
  if (!href || !(p.title || p.description)) return null;
  const image = typeof p.image === 'string' && /^data:image\/(jpeg|webp);base64,[A-Za-z0-9+/=]+$/.test(p.image) ? p.image : null;
  return h('a.link-preview', { href, target: '_blank', rel: 'noopener noreferrer nofollow', 'aria-label': `Link preview: ${p.title || href}` },
    image ? h('img.link-preview-img', { src: image, alt: '' }) : null,
    h('span.link-preview-text',
      p.site_name ? h('span.link-preview-site', p.site_name) : null,
      p.title ? h('span.link-preview-title', p.title) : null,
      p.description ? h('span.link-preview-desc', p.description) : null));
}
