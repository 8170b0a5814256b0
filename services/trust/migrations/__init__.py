"""Trust's own tables, applied in name order by ``shared.postgres.apply_migrations``."""
