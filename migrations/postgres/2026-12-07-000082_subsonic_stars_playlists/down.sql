DROP TABLE playlist_entries;
DROP TABLE playlists;
DROP TABLE subsonic_stars;
