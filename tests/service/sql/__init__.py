"""service.sql: the placeholders of a statement run once per row, the bulk insert and the id
reservation on the real database of the session (SQLite or Postgres)."""
