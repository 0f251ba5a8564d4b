DROP TABLE uploads;
DROP TABLE files;
DROP TABLE folders;
DROP TABLE blobs;
