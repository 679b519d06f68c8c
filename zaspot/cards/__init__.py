"""Who may charge: cards (id tokens), the authorization mode, local authorization lists."""
