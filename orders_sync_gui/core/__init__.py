"""Pure logic: no Qt, no database, no network, no files."""
