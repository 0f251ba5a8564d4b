DROP TABLE contact_tokens;
DROP TABLE contact_addresses;
