"""Price sources of day-ahead markets (each a module; registered as price_source platforms)."""
