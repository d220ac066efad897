"""The outbox: messages the bot sends by itself (group posts, moderator alerts), delivered, retried
and paced."""
