from tests.conftest import issue, login


async def test_issue_call_finish(client):
    ticket = await issue(client)
    assert ticket["number"] == "A001"
    headers = await login(client, "w1")
    called = await client.post("/api/v1/windows/1/call-next", headers=headers)
    assert called.status_code == 200
    assert called.json()["number"] == "A001"
