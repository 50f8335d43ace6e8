"""Who is asking: staff accounts, roles, devices, tokens, sessions and CSRF."""
