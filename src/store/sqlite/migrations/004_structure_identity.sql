-- Source ids are dataset-qualified from this version on; rows of earlier imports keep their ids.
-- duplicate_of names the first-imported structure of the same content (NULL for that one): existing
-- stores get it for their rows here, so a re-import under the new ids is recognised.
ALTER TABLE structures ADD COLUMN duplicate_of TEXT;
CREATE INDEX structures_content_hash ON structures (content_hash, id);
UPDATE structures SET duplicate_of = (
  SELECT f.source_id FROM structures f WHERE f.content_hash = structures.content_hash AND f.id < structures.id ORDER BY f.id LIMIT 1);
ALTER TABLE import_errors ADD COLUMN file TEXT;
ALTER TABLE import_errors ADD COLUMN record INTEGER;
ALTER TABLE import_errors ADD COLUMN record_id TEXT;
