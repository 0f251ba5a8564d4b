DROP TABLE room_invitations;
