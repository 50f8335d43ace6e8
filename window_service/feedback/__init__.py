"""Citizen feedback (好差评) bound to a finished ticket."""
