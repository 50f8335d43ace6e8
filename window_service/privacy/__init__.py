"""Personal data (个人信息保护): citizens' names and phones erased after the retention period."""
