"""Self-test of the fake Discord's refusals, with a bare websocket client standing in for a bot.

The end-to-end tests (test_discord_e2e.py) drive the real `newsbot run` through the routes the
fake serves and assert it was never refused; that only means something if the fake refuses what
Discord refuses. These tests check that it does: oversized messages and components, requests
without a token, unknown routes, a second or late acknowledgement, and a button press answered by
editing its message.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

from tests.e2e.fake_discord import FakeDiscord

DEADLINE = 0.5  # the fake's acknowledgement window (Discord's is 3 s), short to keep tests fast
TOKEN = "fake-bot-token"
GUILD_MESSAGES, MESSAGE_CONTENT = 1 << 9, 1 << 15
ASK = {
    "name": "ask",
    "description": "Ask a question",
    "options": [{"name": "question", "type": 3, "description": "The question", "required": True}],
}


@pytest.fixture
def fake() -> Iterator[FakeDiscord]:
    server = FakeDiscord(ack_deadline=DEADLINE).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {TOKEN}"}) as session:
        yield session


@pytest.fixture
async def gateway(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """A bot session: HELLO, IDENTIFY, READY and the guild, then /ask synced to the guild."""
    async with http.ws_connect(fake.gateway_url) as ws:
        assert (await ws.receive_json())["op"] == 10  # HELLO
        intents = GUILD_MESSAGES | MESSAGE_CONTENT
        await ws.send_json({"op": 2, "d": {"token": TOKEN, "intents": intents}})
        assert [(await ws.receive_json())["t"] for _ in range(2)] == ["READY", "GUILD_CREATE"]
        commands = f"{fake.api_base}/applications/{fake.app_id}/guilds/{fake.guild_id}/commands"
        assert (await http.put(commands, json=[ASK])).status == 200
        yield ws


async def dispatched(ws: aiohttp.ClientWebSocketResponse, event: str) -> dict[str, Any]:
    """The next gateway event of this name (others are skipped)."""
    while True:
        frame = await asyncio.wait_for(ws.receive_json(), 5)
        if frame["t"] == event:
            data: dict[str, Any] = frame["d"]
            return data


async def test_limits_unknown_routes_and_missing_tokens_are_refused(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    messages = f"{fake.api_base}/channels/{fake.channel_id}/messages"
    too_big = {"embeds": [{"title": "t" * 257, "fields": [{"name": "n", "value": "v"}] * 26}]}
    button = {"type": 2, "style": 1, "label": "l" * 81, "custom_id": "c" * 101}
    rows = [{"type": 1, "components": [button]}]

    resp = await http.post(messages, json=too_big)
    body = await resp.json()
    assert resp.status == 400 and body["code"] == 50035
    assert set(body["errors"]["embeds"]["0"]) == {"title", "fields"}
    resp = await http.post(messages, json={"content": "x" * 2001})
    assert resp.status == 400 and "content" in (await resp.json())["errors"]
    resp = await http.post(messages, json={"content": "hi", "components": rows})
    assert resp.status == 400
    assert "custom_id" in (await resp.json())["errors"]["components"]["0"]["components"]["0"]
    resp = await http.post(messages, json={"content": "hi", "allowed_mentions": {"parse": []}})
    assert resp.status == 200 and resp.headers["Content-Type"] == "application/json"
    history = await (await http.get(messages, params={"limit": 1})).json()
    assert [m["content"] for m in history] == ["hi"]
    assert fake.messages()[-1]["allowed_mentions"] == {"parse": []}
    resp = await http.get(f"{fake.api_base}/guilds/{fake.guild_id}/audit-logs")
    assert resp.status == 404 and (await resp.json()) == {"message": "404: Not Found", "code": 0}
    assert [c.path for c in fake.unhandled] == [f"/guilds/{fake.guild_id}/audit-logs"]
    async with aiohttp.ClientSession() as anonymous:
        assert (await anonymous.get(f"{fake.api_base}/users/@me")).status == 401
    assert [r.code for r in fake.rejections] == [50035, 50035, 50035, 0]
    with pytest.raises(LookupError, match="never synced"):
        fake.slash("echo", {})


async def test_a_second_or_late_acknowledgement_is_refused(
    fake: FakeDiscord, http: aiohttp.ClientSession, gateway: aiohttp.ClientWebSocketResponse
) -> None:
    asked = await asyncio.to_thread(fake.slash, "ask", {"question": "q"}, user="user")
    interaction = await dispatched(gateway, "INTERACTION_CREATE")
    assert interaction["id"] == asked and interaction["data"]["options"][0]["value"] == "q"
    callback = f"{fake.api_base}/interactions/{asked}/{interaction['token']}/callback"
    params = {"with_response": "1"}

    first = await http.post(callback, params=params, json={"type": 5})
    assert first.status == 200 and (await first.json())["interaction"]["id"] == asked
    second = await http.post(callback, params=params, json={"type": 5})
    assert second.status == 400 and (await second.json())["code"] == 40060

    late = await asyncio.to_thread(fake.slash, "ask", {"question": "late"}, user="user")
    token = (await dispatched(gateway, "INTERACTION_CREATE"))["token"]
    await asyncio.sleep(DEADLINE * 2)  # always past the window: a late answer is never in time
    callback = f"{fake.api_base}/interactions/{late}/{token}/callback"
    refused = await http.post(callback, params=params, json={"type": 5})
    assert refused.status == 404 and (await refused.json())["code"] == 10062
    assert [r.code for r in fake.rejections] == [40060, 10062]
    assert asked in fake.ack_latency and late not in fake.ack_latency
    assert fake.original_response(late) is None


async def test_a_button_press_answered_with_an_edit_changes_the_message(
    fake: FakeDiscord, http: aiohttp.ClientSession, gateway: aiohttp.ClientWebSocketResponse
) -> None:
    button = {"type": 2, "style": 1, "label": "Next", "custom_id": "page:next"}
    posted = await http.post(
        f"{fake.api_base}/channels/{fake.channel_id}/messages",
        json={"content": "page 1", "components": [{"type": 1, "components": [button]}]},
    )
    message = await posted.json()

    pressed = await asyncio.to_thread(fake.click, message["id"], "page:next", user="user")
    interaction = await dispatched(gateway, "INTERACTION_CREATE")
    assert interaction["type"] == 3 and interaction["message"]["id"] == message["id"]
    callback = f"{fake.api_base}/interactions/{pressed}/{interaction['token']}/callback"
    edit = {"type": 7, "data": {"content": "page 2", "components": []}}
    assert (await http.post(callback, json=edit)).status == 204

    edited = fake.message(message["id"])
    assert edited is not None and edited["content"] == "page 2" and edited["components"] == []
    assert fake.interaction(pressed).response_type == 7
    with pytest.raises(LookupError, match="no enabled button"):
        fake.click(message["id"], "page:next")
