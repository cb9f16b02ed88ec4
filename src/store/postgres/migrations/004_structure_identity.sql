-- Source ids are dataset-qualified; duplicate_of names the first-imported structure of the same content.
ALTER TABLE structures ADD COLUMN duplicate_of TEXT;
CREATE INDEX structures_content_hash ON structures (content_hash, id);
ALTER TABLE import_errors ADD COLUMN file TEXT;
ALTER TABLE import_errors ADD COLUMN record INTEGER;
ALTER TABLE import_errors ADD COLUMN record_id TEXT;
