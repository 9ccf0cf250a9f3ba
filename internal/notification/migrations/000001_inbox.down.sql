DROP TABLE notification.recipients;
DROP TABLE notification.inbox;
