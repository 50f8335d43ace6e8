"""Alerts to a citizen's phone by an outside SMS/WeChat gateway (短信/微信提醒), optional."""
