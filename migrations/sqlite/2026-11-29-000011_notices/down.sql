DROP TABLE safety_officers;
DROP TABLE notice_recipients;
DROP TABLE notices;
