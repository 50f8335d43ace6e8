"""Delivery to an outside 好差评 platform through an outbox (省级好差评平台对接)."""
