DROP TABLE room_join_requests;
