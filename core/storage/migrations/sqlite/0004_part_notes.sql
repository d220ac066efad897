-- A part's notes in the member's own words: where it shows up in the body, what it says,
-- what it protects. Like its name and the free `notes`, each is AES-GCM ciphertext.
ALTER TABLE parts ADD COLUMN body BLOB;
ALTER TABLE parts ADD COLUMN says BLOB;
ALTER TABLE parts ADD COLUMN protects BLOB;
