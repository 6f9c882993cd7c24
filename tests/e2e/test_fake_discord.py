"""Self-test of the fake Discord: a tiny real discord.py bot driven against it over the network.

The bot runs in the test's event loop, the fake in its own thread, so every wait here is
`fake.async_wait_for` (the blocking `wait_for` is for a bot in another process).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import aiohttp
import discord
import pytest
from discord.ext import commands

from tests.e2e.fake_discord import EPHEMERAL, LOADING, FakeDiscord

DEADLINE = 1.0  # the fake's acknowledgement window (Discord's is 3 s), short to keep tests fast
TOKEN = "fake-bot-token"
COMMANDS = {"echo", "secret", "panel", "long", "ingest", "steps", "feedback", "whoami"}
COMMANDS |= {"ignore", "late"}


class Panel(discord.ui.View):
    """A message with one button; pressing it edits the message in place (response type 7)."""

    @discord.ui.button(label="Bump", custom_id="panel:bump")
    async def bump(self, interaction: discord.Interaction, _: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="bumped", view=None)


class Feedback(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput = discord.ui.TextInput(label="Your feedback", custom_id="fb:text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}")


def make_bot(guild_id: int) -> commands.Bot:
    intents = discord.Intents.default()
    intents.message_content = True
    bot = commands.Bot(
        command_prefix=commands.when_mentioned,
        intents=intents,
        guild_ready_timeout=0.1,
        allowed_mentions=discord.AllowedMentions.none(),
    )
    guild = discord.Object(guild_id)

    @bot.tree.command(guild=guild, description="Echo text after thinking")
    async def echo(interaction: discord.Interaction, text: str) -> None:
        await interaction.response.defer(thinking=True)
        embed = discord.Embed(title="Echo", description=text)
        await interaction.edit_original_response(content=f"echo: {text}", embed=embed)

    @bot.tree.command(guild=guild, description="Reply only to the caller")
    async def secret(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("just for you", ephemeral=True)

    @bot.tree.command(guild=guild, description="A message with a button")
    async def panel(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("press it", view=Panel())

    @bot.tree.command(guild=guild, description="Try to send 2001 characters")
    async def long(interaction: discord.Interaction) -> None:
        try:
            await interaction.response.send_message("x" * 2001)
        except discord.HTTPException as exc:
            await interaction.response.send_message(f"rejected {exc.code}", ephemeral=True)

    @bot.tree.command(guild=guild, description="Read an uploaded file")
    async def ingest(interaction: discord.Interaction, file: discord.Attachment) -> None:
        data = await file.read()
        await interaction.response.send_message(f"{file.filename}: {data.decode()}")

    @bot.tree.command(guild=guild, description="Think, then answer in two follow-ups")
    async def steps(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("step 1")
        await interaction.followup.send("step 2", ephemeral=True)

    @bot.tree.command(guild=guild, description="Ask for feedback in a modal")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Feedback())

    @bot.tree.command(guild=guild, description="Show the caller's permissions")
    async def whoami(interaction: discord.Interaction) -> None:
        perms = interaction.permissions
        text = f"manage_guild={perms.manage_guild} administrator={perms.administrator}"
        await interaction.response.send_message(text, ephemeral=True)

    @bot.tree.command(guild=guild, description="Never answers")
    async def ignore(interaction: discord.Interaction) -> None:
        return

    @bot.tree.command(guild=guild, description="Answers too late")
    async def late(interaction: discord.Interaction) -> None:
        await asyncio.sleep(DEADLINE + 0.2)
        with contextlib.suppress(discord.NotFound):
            await interaction.response.send_message("too late")

    async def setup_hook() -> None:
        await bot.tree.sync(guild=guild)

    bot.setup_hook = setup_hook  # type: ignore[method-assign]

    @bot.event
    async def on_message(message: discord.Message) -> None:
        if message.author.bot or bot.user not in message.mentions:
            return
        thread = await message.create_thread(name="Answer")
        await thread.send(f"answer to: {message.clean_content}")

    return bot


@pytest.fixture
def fake() -> Iterator[FakeDiscord]:
    with FakeDiscord(ack_deadline=DEADLINE) as server:
        yield server


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[commands.Bot]:
    original = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    with fake.patch_discord():
        client = make_bot(int(fake.guild_id))
        task = asyncio.create_task(client.start(TOKEN))
        try:
            await fake.async_wait_for(lambda: client.is_ready() or task.done(), timeout=10)
            assert client.is_ready(), task.exception()
            yield client
        finally:
            await client.close()
            await asyncio.wait_for(task, 5)
    assert original == (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    assert fake.unhandled == []


async def test_login_ready_and_command_sync(fake: FakeDiscord, bot: commands.Bot) -> None:
    assert fake.token == TOKEN
    calls = [(c.method, c.path) for c in fake.calls]
    assert ("GET", "/users/@me") in calls
    assert ("GET", "/oauth2/applications/@me") in calls
    assert ("PUT", f"/applications/{fake.app_id}/guilds/{fake.guild_id}/commands") in calls
    assert fake.identifies[0]["intents"] & (1 << 15)  # message content requested
    assert bot.user is not None and str(bot.user.id) == fake.bot_id
    assert bot.get_channel(int(fake.channel_id)) is not None  # GUILD_CREATE filled the cache
    names = {c["name"] for c in fake.commands()}
    assert names == COMMANDS


async def test_deferred_echo_is_acknowledged_and_edited(fake: FakeDiscord, bot: commands.Bot):
    iid = fake.slash("echo", {"text": "hello"}, user="user")
    msg = await fake.async_wait_for(
        lambda: (m := fake.original_response(iid)) and m["content"] and m, timeout=5
    )
    assert fake.ack_latency[iid] < DEADLINE
    assert fake.interaction(iid).response_type == 5
    assert msg["content"] == "echo: hello"
    assert msg["embeds"][0]["title"] == "Echo" and msg["embeds"][0]["description"] == "hello"
    assert not msg["flags"] & LOADING and not msg["flags"] & EPHEMERAL
    assert msg["allowed_mentions"] == {"parse": []}
    assert msg in fake.messages()


async def test_ephemeral_reply_has_flag_64(fake: FakeDiscord, bot: commands.Bot) -> None:
    iid = fake.slash("secret", {})
    msg = await fake.async_wait_for(lambda: fake.original_response(iid), timeout=5)
    assert msg["content"] == "just for you"
    assert msg["flags"] & EPHEMERAL


async def test_button_click_edits_the_message(fake: FakeDiscord, bot: commands.Bot) -> None:
    iid = fake.slash("panel", {})
    panel = await fake.async_wait_for(lambda: fake.original_response(iid), timeout=5)
    assert panel["components"][0]["components"][0]["custom_id"] == "panel:bump"
    click = fake.click(panel["id"], "panel:bump", user="user")
    edited = await fake.async_wait_for(
        lambda: (m := fake.message(panel["id"])) and m["content"] == "bumped" and m, timeout=5
    )
    assert edited["components"] == []
    assert fake.interaction(click).response_type == 7


async def test_mention_gets_a_reply_in_a_new_thread(fake: FakeDiscord, bot: commands.Bot):
    mid = fake.say("what is new?", mention_bot=True)
    replies = await fake.async_wait_for(lambda: fake.messages(mid), timeout=5)
    thread = fake.channel(mid)  # a thread started from a message has the message's id
    assert thread is not None and thread["type"] == 11 and thread["parent_id"] == fake.channel_id
    assert replies[0]["content"] == "answer to: @newsbot what is new?"
    assert replies[0]["allowed_mentions"] == {"parse": []}


async def test_oversized_message_is_rejected(fake: FakeDiscord, bot: commands.Bot) -> None:
    iid = fake.slash("long", {})
    msg = await fake.async_wait_for(lambda: fake.original_response(iid), timeout=5)
    assert msg["content"] == "rejected 50035"
    [rejection] = fake.rejections
    assert rejection.code == 50035 and rejection.status == 400
    assert "content: Must be 2000 or fewer in length." in rejection.reason


async def test_attachment_option_is_served_by_the_fake(fake: FakeDiscord, bot: commands.Bot):
    file = fake.add_attachment("notes.txt", b"hello file", "text/plain")
    iid = fake.slash("ingest", {"file": file})
    msg = await fake.async_wait_for(lambda: fake.original_response(iid), timeout=5)
    assert msg["content"] == "notes.txt: hello file"


async def test_followups_after_thinking(fake: FakeDiscord, bot: commands.Bot) -> None:
    iid = fake.slash("steps", {})
    first, second = await fake.async_wait_for(lambda: len(f := fake.followups(iid)) == 2 and f)
    original = fake.original_response(iid)
    # Discord: the first follow-up after a "thinking" defer replaces the loading message.
    assert original is not None and original["id"] == first["id"]
    assert first["content"] == "step 1" and not first["flags"] & (LOADING | EPHEMERAL)
    assert second["content"] == "step 2" and second["flags"] & EPHEMERAL


async def test_modal_round_trip(fake: FakeDiscord, bot: commands.Bot) -> None:
    opener = fake.slash("feedback", {})
    modal = await fake.async_wait_for(lambda: fake.interaction(opener).modal, timeout=5)
    assert modal["title"] == "Feedback"
    submitted = fake.submit_modal(opener, {"fb:text": "great bot"})
    msg = await fake.async_wait_for(lambda: fake.original_response(submitted), timeout=5)
    assert msg["content"] == "thanks: great bot"


async def test_admin_and_user_permissions(fake: FakeDiscord, bot: commands.Bot) -> None:
    admin, user = fake.slash("whoami", {}, user="admin"), fake.slash("whoami", {}, user="user")

    def answers() -> list[str] | None:
        replies = [fake.original_response(admin), fake.original_response(user)]
        return [r["content"] for r in replies if r] if all(replies) else None

    assert await fake.async_wait_for(answers) == [
        "manage_guild=True administrator=False",
        "manage_guild=False administrator=False",
    ]


async def test_unacknowledged_and_late_interactions(fake: FakeDiscord, bot: commands.Bot):
    ignored, late = fake.slash("ignore", {}), fake.slash("late", {})
    await fake.async_wait_for(lambda: {ignored, late} <= set(fake.unacknowledged), timeout=5)
    await fake.async_wait_for(lambda: fake.rejections, timeout=5)
    assert [r.code for r in fake.rejections] == [10062]
    assert ignored not in fake.ack_latency and late not in fake.ack_latency
    assert fake.original_response(late) is None


async def test_second_acknowledgement_is_refused(fake: FakeDiscord, bot: commands.Bot) -> None:
    iid = fake.slash("ignore", {})  # the bot stays silent; the test answers by hand
    url = f"{fake.api_base}/interactions/{iid}/{fake.interaction(iid).token}/callback"
    async with aiohttp.ClientSession() as http:
        first = await http.post(url, params={"with_response": "1"}, json={"type": 5})
        assert first.status == 200 and (await first.json())["interaction"]["id"] == iid
        second = await http.post(url, params={"with_response": "1"}, json={"type": 5})
        refused = await second.json()
        assert second.status == 400 and refused["code"] == 40060
        assert refused["message"] == "Interaction has already been acknowledged."


async def test_limits_and_unknown_routes_without_a_bot(fake: FakeDiscord) -> None:
    auth = {"Authorization": "Bot x"}
    messages = f"{fake.api_base}/channels/{fake.channel_id}/messages"
    too_big = {"embeds": [{"title": "t" * 257, "fields": [{"name": "n", "value": "v"}] * 26}]}
    button = {"type": 2, "style": 1, "label": "l" * 81, "custom_id": "c" * 101}
    rows = [{"type": 1, "components": [button]}]
    async with aiohttp.ClientSession(headers=auth) as http:
        resp = await http.post(messages, json=too_big)
        body = await resp.json()
        assert resp.status == 400 and body["code"] == 50035
        assert set(body["errors"]["embeds"]["0"]) == {"title", "fields"}
        resp = await http.post(messages, json={"content": "hi", "components": rows})
        assert resp.status == 400
        assert "custom_id" in (await resp.json())["errors"]["components"]["0"]["components"]["0"]
        resp = await http.post(messages, json={"content": "hi", "allowed_mentions": {"parse": []}})
        assert resp.status == 200 and resp.headers["Content-Type"] == "application/json"
        history = await (await http.get(messages, params={"limit": 1})).json()
        assert [m["content"] for m in history] == ["hi"]
        resp = await http.get(f"{fake.api_base}/guilds/{fake.guild_id}/audit-logs")
        assert resp.status == 404 and (await resp.json()) == {
            "message": "404: Not Found",
            "code": 0,
        }
    assert [c.path for c in fake.unhandled] == [f"/guilds/{fake.guild_id}/audit-logs"]
    async with aiohttp.ClientSession() as http:  # no bot token
        assert (await http.get(f"{fake.api_base}/users/@me")).status == 401
    assert [r.code for r in fake.rejections] == [50035, 50035, 0]
    with pytest.raises(LookupError, match="never synced"):
        fake.slash("echo", {})
