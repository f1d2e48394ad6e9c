DROP TABLE message_link_previews;
DROP TABLE link_preview_cache;
