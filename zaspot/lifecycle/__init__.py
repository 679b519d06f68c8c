"""A station's life: reservations, firmware updates, log retrieval, stale transactions, the file endpoint."""
