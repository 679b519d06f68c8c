"""Running zaspot for real: the startup checks of the database, `zaspot backup`,
`zaspot restore` and `zaspot doctor` (see README, "Running it for real")."""
