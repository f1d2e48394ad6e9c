DROP TABLE import_progress;
