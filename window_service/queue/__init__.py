"""The queue: tickets (号票), numbering, calling and the ticket life cycle."""
