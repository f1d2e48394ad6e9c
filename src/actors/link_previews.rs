//! `LinkPreviews` (issue 20): after a room committed a message, the preview of its first link is
//! made off the room's path (the ack went out already) and given to the message through the room
//! like any change (`AttachLinkPreview`, a `message_updated`). Whether a message gets one: the
//! setting, the tenant (`off_tenants`), direct rooms only for `direct_tenants`, and the text
//! (`domain::link`). The page comes through the guarded client (`outbound`: public addresses,
//! every redirect re-checked, `text/html` only, size and time caps) and is cached per URL; its
//! image is fetched the same way and re-encoded through the thumbnail path into a small JPEG.

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use base64::Engine;
use tokio::sync::Semaphore;

use super::room::{Apply, RoomActor};
use crate::auth::Role as TokenRole;
use crate::commands::{AttachLinkPreview, Caller, Command};
use crate::config::{ConfigError, Settings};
use crate::db::models::Room;
use crate::db::{self, DbPool};
use crate::domain::ids::{MessageId, TenantId, UserId};
use crate::domain::link::{page_meta, preview_link};
use crate::domain::role::RoomType;
use crate::domain::webhook::UrlRules;
use crate::metrics::Metrics;
use crate::outbound::{fetch_capped, guarded_client, Fetched};
use crate::protocol::views::{LinkPreviewView, MessageView};
use crate::uploads::media;

pub struct LinkPreviews {
    settings: Arc<Settings>,
    pool: DbPool,
    metrics: Arc<Metrics>,
    client: reqwest::Client,
    slots: Semaphore,
}

impl LinkPreviews {
    pub fn new(
        settings: Arc<Settings>,
        pool: DbPool,
        metrics: Arc<Metrics>,
    ) -> Result<Arc<Self>, ConfigError> {
        let lp = &settings.link_previews;
        let client = guarded_client(
            &lp.allow_hosts,
            Duration::from_millis(lp.timeout_ms),
            concat!("Confab-LinkPreview/", env!("CARGO_PKG_VERSION")),
        )
        .map_err(|e| ConfigError(format!("`link_previews`: {e}")))?;
        Ok(Arc::new(LinkPreviews {
            slots: Semaphore::new(lp.max_parallel),
            settings,
            pool,
            metrics,
            client,
        }))
    }

    /// A message `room` committed: starts its preview when it should get one.
    pub fn consider(self: &Arc<Self>, room: &Room, m: &MessageView, to: Addr<RoomActor>) {
        let lp = &self.settings.link_previews;
        let direct = RoomType::from_store(&room.room_type) == RoomType::Direct;
        if !lp.enabled
            || m.is_deleted
            || lp.off_tenants.contains(&room.tenant_id)
            || (direct && !lp.direct_tenants.contains(&room.tenant_id))
        {
            return;
        }
        let Some(url) = preview_link(&m.content) else {
            return;
        };
        let caller = Caller {
            user_id: UserId(m.sender.id),
            tenant_id: TenantId(room.tenant_id),
            display_name: m.sender.display_name.clone(),
            token_role: TokenRole::User,
        };
        let (this, message_id) = (self.clone(), MessageId(m.id));
        actix::spawn(async move {
            let Some(preview) = this.preview_of(&url).await else {
                return;
            };
            let command = Command::LinkPreview(AttachLinkPreview {
                message_id,
                preview,
            });
            match to.send(Apply { caller, command }).await {
                Ok(Ok(_)) => {
                    this.metrics
                        .link_previews_total
                        .fetch_add(1, Ordering::Relaxed);
                }
                Ok(Err(e)) => log::info!("link preview not attached: {e}"),
                Err(e) => log::info!("link preview not attached (room stopped): {e}"),
            }
        });
    }

    /// The preview of `url`: cached, or fetched now (and cached, a refusal too).
    async fn preview_of(&self, url: &str) -> Option<LinkPreviewView> {
        let ttl = chrono::Duration::seconds(self.settings.link_previews.cache_secs as i64);
        let mut conn = self.pool.get().await.ok()?;
        let fresh_after = chrono::Utc::now() - ttl;
        if let Ok(Some(hit)) = db::link_previews::cached(&mut conn, url, fresh_after).await {
            return hit.and_then(|v| serde_json::from_value(v).ok());
        }
        drop(conn);
        let made = {
            let _slot = self.slots.acquire().await.ok()?;
            let limit = Duration::from_millis(self.settings.link_previews.timeout_ms);
            match tokio::time::timeout(limit, self.fetch(url)).await {
                Ok(made) => made,
                Err(_) => Err(format!("no answer within {limit:?}")),
            }
        };
        let preview = match made {
            Ok(p) => Some(p),
            Err(why) => {
                self.metrics
                    .link_previews_refused_total
                    .fetch_add(1, Ordering::Relaxed);
                log::info!("no link preview of {url}: {why}");
                None
            }
        };
        let json = preview.as_ref().and_then(|p| serde_json::to_value(p).ok());
        let mut conn = self.pool.get().await.ok()?;
        if let Err(e) = db::link_previews::remember(&mut conn, url, json.as_ref()).await {
            log::warn!("caching the link preview of {url}: {e}");
        }
        preview
    }

    fn rules(&self) -> UrlRules<'_> {
        UrlRules {
            allow_insecure_hosts: &self.settings.link_previews.allow_hosts,
        }
    }

    /// Fetches the page and reads what it says about itself (and its image, if it has one).
    async fn fetch(&self, url: &str) -> Result<LinkPreviewView, String> {
        let lp = &self.settings.link_previews;
        let html_only = |t: &str| t == "text/html" || t == "application/xhtml+xml";
        let page = fetch_capped(
            &self.client,
            url,
            &self.rules(),
            lp.max_bytes,
            lp.max_redirects,
            html_only,
        )
        .await
        .map_err(|e| e.to_string())?;
        let meta = page_meta(&String::from_utf8_lossy(&page.body));
        if meta.title.is_none() && meta.description.is_none() {
            return Err("the page has no title or description".into());
        }
        let image = match &meta.image {
            Some(src) => self.image(&page, src).await,
            None => None,
        };
        Ok(LinkPreviewView {
            url: url.to_owned(),
            title: meta.title,
            description: meta.description,
            site_name: meta
                .site_name
                .unwrap_or_else(|| page.url.host_str().unwrap_or_default().to_owned()),
            image,
        })
    }

    /// The page's image, fetched like the page and re-encoded as a small JPEG `data:` URL (none
    /// when anything about it is wrong).
    async fn image(&self, page: &Fetched, src: &str) -> Option<String> {
        let lp = &self.settings.link_previews;
        let url = page.url.join(src).ok()?;
        let images = |t: &str| media::image_format(t).is_some();
        let got = fetch_capped(
            &self.client,
            url.as_str(),
            &self.rules(),
            lp.max_bytes,
            lp.max_redirects,
            images,
        )
        .await
        .map_err(|e| log::info!("no preview image from {url}: {e}"))
        .ok()?;
        let format = media::image_format(&media::sniff(&got.body))?;
        let (px, max) = (lp.image_px, self.settings.uploads.max_image_pixels);
        let dir = media_staging(&self.settings);
        let thumb = actix_web::web::block(move || {
            let mut file = tempfile::NamedTempFile::new_in(dir).ok()?;
            file.write_all(&got.body).ok()?;
            media::process_image(file.path(), format, px, max).ok()
        })
        .await
        .ok()??;
        let mime = if thumb.thumbnail.extension == "webp" {
            "image/webp"
        } else {
            "image/jpeg"
        };
        let b64 = base64::engine::general_purpose::STANDARD.encode(&thumb.thumbnail.bytes);
        Some(format!("data:{mime};base64,{b64}"))
    }
}

/// Where preview images are staged while they are decoded (the uploads' staging directory).
fn media_staging(settings: &Settings) -> std::path::PathBuf {
    crate::uploads::storage::staging_dir(&settings.uploads)
}
