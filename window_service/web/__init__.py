"""Pages: sign-in, window terminal, office dashboard, citizen tracking, notice board."""
