"""Alerts: user and platform rules evaluated on the hub's events, delivered to webhook, Telegram and e-mail."""
