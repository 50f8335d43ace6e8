"""Hall devices' server side: the evaluator pad's endpoint and the QR codes of tickets."""
