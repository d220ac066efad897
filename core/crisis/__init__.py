"""The crisis path: the crisis reply and resources, telling a moderator by the member's choice,
/country."""
