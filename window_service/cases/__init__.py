"""Cases (办件): acceptance, deadlines in working days, corrections, warnings, figures."""
