DROP TABLE audio_meta;
