"""Star ratings (星级评定): weighted, shrunk scores per window, staff member and department."""
