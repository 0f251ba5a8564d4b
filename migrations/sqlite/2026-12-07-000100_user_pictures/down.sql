DROP TABLE user_pictures;
