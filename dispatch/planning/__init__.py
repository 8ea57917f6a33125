"""Planning in the service: load the day from the database, run the optimizer, propose, commit (I/O here)."""
