"""Qt item models over the store: paged table models and the in-memory session register."""
