"""Efficiency warnings (效能告诫): repeated breaches in a quarter propose a formal warning."""
