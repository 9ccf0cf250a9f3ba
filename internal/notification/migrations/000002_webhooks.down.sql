DROP TABLE notification.webhook_attempts;
DROP TABLE notification.webhook_deliveries;
DROP TABLE notification.webhook_endpoints;
