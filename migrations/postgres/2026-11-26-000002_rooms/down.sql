DROP TABLE room_permissions;
DROP TABLE room_members;
DROP TABLE rooms;
