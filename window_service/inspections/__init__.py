"""Undercover visits (效能办暗访): scoring sheets, visits, inspection notices, visit plans."""
