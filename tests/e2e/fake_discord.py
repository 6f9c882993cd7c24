"""A small fake Discord (gateway websocket + REST API) on 127.0.0.1 for end-to-end tests.

The real `newsbot run` process talks to it over the network exactly as it would talk to
Discord, so the whole path is exercised: login, gateway HELLO, IDENTIFY, READY and heartbeats,
command sync, interaction callbacks, follow-ups and webhook edits, messages, threads, buttons and
attachments. It serves what newsbot uses and nothing more (no modals, select menus or file
uploads): a request to anything else is recorded in `unhandled`, which the tests check is empty.
Discord's documented limits (message and embed sizes, components, the 3-second acknowledgement
window) are enforced the way the real API enforces them, so a bot that breaks them fails here.

It runs in a thread with its own event loop and is driven synchronously from the test:

    fake = FakeDiscord().start()      # fake.api_base, fake.gateway_url
    iid = fake.slash("ask", {"question": "What happened?"}, user="user")
    reply = fake.wait_for(lambda: fake.original_response(iid))
    fake.stop()

All ids are strings, as in Discord's JSON. Messages handed to the test are dicts in Discord's
message shape; those the bot wrote carry one extra key, `allowed_mentions`, as its last write of
that message asked (None when it sent none). Every REST call is in `calls`, every refusal in
`rejections`, every request to a route the fake does not serve in `unhandled`.

Gateway frames are plain JSON text frames: discord.py asks for `compress=zstd-stream` (or
`zlib-stream`) in the URL, but it only decompresses binary frames, so text frames are accepted.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple, TypeVar

from aiohttp import WSMsgType, web

T = TypeVar("T")
# What a `wait_for` predicate returns while it waits: the result it returns is none of these.
Falsy = Literal[False] | None

API = "/api/v10"
DISCORD_EPOCH_MS = 1420070400000
# Message flags.
SUPPRESS_EMBEDS, EPHEMERAL, LOADING = 1 << 2, 1 << 6, 1 << 7
SEND_FLAGS = SUPPRESS_EMBEDS | EPHEMERAL | (1 << 12)  # what a sender may set
# Gateway intents the fake honours (as Discord does: no GUILD_MESSAGES, no message events;
# no MESSAGE_CONTENT, other users' messages arrive with empty content unless they mention the bot).
GUILD_MESSAGES, MESSAGE_CONTENT = 1 << 9, 1 << 15
# Permission bits.
ADMINISTRATOR, MANAGE_GUILD = 1 << 3, 1 << 5
BASIC_PERMISSIONS = (
    (1 << 6)  # ADD_REACTIONS
    | (1 << 10)  # VIEW_CHANNEL
    | (1 << 11)  # SEND_MESSAGES
    | (1 << 14)  # EMBED_LINKS
    | (1 << 15)  # ATTACH_FILES
    | (1 << 16)  # READ_MESSAGE_HISTORY
    | (1 << 31)  # USE_APPLICATION_COMMANDS
    | (1 << 35)  # CREATE_PUBLIC_THREADS
    | (1 << 38)  # SEND_MESSAGES_IN_THREADS
)
JOINED = "2024-01-01T00:00:00+00:00"
HEARTBEAT_INTERVAL_MS = 41250
# The parsed JSON body: whatever the bot sent, as json.loads returns it.
BODY = web.RequestKey[Any]("body")


class Call(NamedTuple):
    """One REST request as the bot sent it (path without `/api/v10` and without the query)."""

    method: str
    path: str
    json: Any


class Rejection(NamedTuple):
    """A request the fake refused the way Discord would (`reason` says why, in words)."""

    method: str
    path: str
    status: int
    code: int
    reason: str


class DiscordError(Exception):
    """An API error; the middleware turns it into Discord's error JSON and records it."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors or {}

    @property
    def reason(self) -> str:
        details = "; ".join(f"{path}: {msg}" for path, msg in self.errors.items())
        return f"{self.message} ({details})" if details else self.message

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:  # Discord nests form errors by path: {"embeds": {"0": {"title": ...}}}
            body["errors"] = {}
            for path, msg in self.errors.items():
                node = body["errors"]
                for part in path.split("."):
                    node = node.setdefault(part, {})
                node["_errors"] = [{"code": "BASE_TYPE_INVALID", "message": msg}]
        return body


def invalid_form(errors: dict[str, str]) -> DiscordError:
    return DiscordError(400, 50035, "Invalid Form Body", errors)


@dataclass
class InteractionRecord:
    """What the fake knows about one interaction it dispatched."""

    id: str
    token: str
    type: int  # 2 application command, 3 message component (a button)
    channel_id: str
    user: str
    message_id: str | None = None  # the message a component sits on
    sent_at: float = 0.0
    acked: bool = False
    response_type: int | None = None
    original_id: str | None = None  # the message the response created or updated
    followup_ids: list[str] = field(default_factory=list)


@dataclass
class _Connection:
    ws: web.WebSocketResponse
    intents: int = 0
    seq: int = 0
    identified: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py only parses a body as JSON when Content-Type is exactly "application/json";
    # aiohttp's json_response would add "; charset=utf-8".
    body = json.dumps(data).encode()
    return web.Response(body=body, status=status, headers={"Content-Type": "application/json"})


class FakeDiscord:
    """A fake Discord with one application, one guild, one text channel and two members.

    `users["admin"]` holds MANAGE_GUILD through a role (not ADMINISTRATOR, not the owner);
    `users["user"]` has the ordinary permissions. Any bot token is accepted and recorded.
    `ack_deadline` is Discord's 3-second window, shorter in tests that wait for it to pass.

    Test side: `slash`, `click` and `say` act as a member and return the new interaction or
    message id; `messages`, `message`, `threads`, `commands`, `interaction`, `original_response`
    and `followups` read the state; `wait_for` polls a predicate.
    """

    def __init__(self, *, ack_deadline: float = 3.0):
        self.ack_deadline = ack_deadline
        self._seq = itertools.count(1)
        self._lock = threading.Lock()  # guards the model: handlers and test threads share it
        self.port = 0
        self.app_id, self.bot_id, self.guild_id = self._id(), self._id(), self._id()
        self.channel_id, self.owner_id, self.mod_role_id = self._id(), self._id(), self._id()
        self.bot_role_id = self._id()
        self.bot_user = self._user(self.bot_id, "newsbot", bot=True)
        self.users = {
            "admin": self._user(self._id(), "admin"),
            "user": self._user(self._id(), "reader"),
        }
        self._roles = {"admin": [self.mod_role_id], "user": [], "bot": [self.bot_role_id]}
        self._channels: dict[str, dict[str, Any]] = {
            self.channel_id: {
                "id": self.channel_id,
                "type": 0,
                "guild_id": self.guild_id,
                "name": "news",
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
                "topic": None,
                "rate_limit_per_user": 0,
                "last_message_id": None,
                "default_auto_archive_duration": 1440,
                "flags": 0,
            }
        }
        self._messages: dict[str, dict[str, Any]] = {}
        self._history: dict[str, list[str]] = {}
        self._commands: dict[str | None, list[dict[str, Any]]] = {}
        self._interactions: dict[str, InteractionRecord] = {}
        self._by_token: dict[str, InteractionRecord] = {}
        self._asked_mentions: dict[str, Any] = {}  # message id -> allowed_mentions of last write
        self._nonces: dict[tuple[str, str], str] = {}  # (channel, nonce) -> message id
        self._files: dict[str, tuple[str, bytes, str]] = {}
        self._connections: list[_Connection] = []
        # Records for assertions.
        self.calls: list[Call] = []
        self.unhandled: list[Call] = []
        self.rejections: list[Rejection] = []
        self.ack_latency: dict[str, float] = {}
        self.tokens: list[str] = []
        self.identifies: list[dict[str, Any]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # ----------------------------------------------------------------- lifecycle and addresses

    def start(self) -> FakeDiscord:
        """Serve on a free port of 127.0.0.1 from a background thread; returns self."""
        started = threading.Event()
        errors: list[BaseException] = []
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._serve())
            except BaseException as exc:
                errors.append(exc)
            started.set()
            if not errors:
                self._loop.run_forever()
                self._loop.run_until_complete(self._shutdown())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="fake-discord", daemon=True)
        self._thread.start()
        if not started.wait(10) or errors:
            raise RuntimeError(f"fake Discord did not start: {errors}")
        return self

    def stop(self) -> None:
        """Close gateway connections and the server; safe to call twice."""
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return self.base_url + API

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def connected(self) -> bool:
        """Whether a bot session has identified on the gateway (interactions can be sent)."""
        return any(c.identified for c in self._connections)

    @property
    def token(self) -> str | None:
        """The bot token of the last authorised request."""
        return self.tokens[-1] if self.tokens else None

    async def _serve(self) -> None:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 2**20)
        r = app.router
        r.add_get("/gateway", self._gateway)
        r.add_get("/attachments/{aid}/{filename}", self._attachment)
        r.add_get(API + "/users/@me", self._me)
        r.add_get(API + "/oauth2/applications/@me", self._application)
        for path in ("/applications/{app}/commands", "/applications/{app}/guilds/{guild}/commands"):
            r.add_put(API + path, self._put_commands)
        r.add_post(API + "/interactions/{iid}/{token}/callback", self._callback)
        r.add_post(API + "/webhooks/{app}/{token}", self._followup)
        r.add_patch(API + "/webhooks/{app}/{token}/messages/{mid}", self._webhook_message)
        r.add_delete(API + "/webhooks/{app}/{token}/messages/{mid}", self._webhook_message)
        r.add_get(API + "/channels/{cid}", self._get_channel)
        r.add_post(API + "/channels/{cid}/typing", self._typing)
        r.add_post(API + "/channels/{cid}/messages", self._post_message)
        r.add_get(API + "/channels/{cid}/messages", self._get_history)
        r.add_get(API + "/channels/{cid}/messages/{mid}", self._get_message)
        r.add_post(API + "/channels/{cid}/messages/{mid}/threads", self._post_thread)
        r.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]

    async def _shutdown(self) -> None:
        for conn in list(self._connections):
            await conn.ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()

    def _run(self, coro: Any, timeout: float = 10.0) -> Any:
        """Run a coroutine on the server loop from a test thread and return its result."""
        if self._loop is None or threading.current_thread() is self._thread:
            raise RuntimeError("FakeDiscord is not started (or called from its own thread)")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    # ------------------------------------------------------------------------------ the model

    def _id(self) -> str:
        # A real snowflake (creation time in the high bits) so discord.py's created_at works.
        return str(((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | next(self._seq))

    @staticmethod
    def _user(uid: str, name: str, *, bot: bool = False) -> dict[str, Any]:
        nothing = dict.fromkeys(("global_name", "avatar"), None) | dict.fromkeys(("flags",), 0)
        return {"id": uid, "username": name, "discriminator": "0", "bot": bot, **nothing}

    def _permissions(self, who: str) -> int:
        return BASIC_PERMISSIONS | (MANAGE_GUILD if who == "admin" else 0)

    def _member(self, who: str, *, with_user: bool = True) -> dict[str, Any]:
        member: dict[str, Any] = {"roles": self._roles[who], "joined_at": JOINED, "flags": 0}
        member |= dict.fromkeys(("deaf", "mute", "pending"), False)
        member |= dict.fromkeys(("nick", "avatar"), None)
        if with_user:
            member["user"] = self.bot_user if who == "bot" else self.users[who]
        return member

    def _guild(self) -> dict[str, Any]:
        def role(rid: str, name: str, permissions: int, **extra: Any) -> dict[str, Any]:
            flags = dict.fromkeys(("hoist", "managed", "mentionable"), False)
            return {"id": rid, "name": name, "permissions": str(permissions), **flags, **extra}

        empty: tuple[str, ...] = ("features", "emojis", "stickers", "voice_states", "presences")
        empty += ("stage_instances", "guild_scheduled_events", "soundboard_sounds")
        return {
            "id": self.guild_id,
            "name": "Newsroom",
            "owner_id": self.owner_id,  # a user who is not cached: nobody here is the owner
            "unavailable": False,
            "large": False,
            "member_count": 3,
            "joined_at": JOINED,
            "preferred_locale": "en-US",
            **{key: [] for key in empty},
            "roles": [
                role(self.guild_id, "@everyone", BASIC_PERMISSIONS, position=0),
                role(self.mod_role_id, "Moderators", BASIC_PERMISSIONS | MANAGE_GUILD, position=1),
                role(
                    self.bot_role_id,
                    "newsbot",
                    BASIC_PERMISSIONS,
                    position=2,
                    managed=True,
                    tags={"bot_id": self.bot_id},
                ),
            ],
            "channels": [c for c in self._channels.values() if c["type"] in (0, 5)],
            "threads": [c for c in self._channels.values() if c["type"] in (11, 12)],
            "members": [self._member(who) for who in ("admin", "user", "bot")],
        }

    def _channel(self, cid: str) -> dict[str, Any]:
        if cid not in self._channels:
            raise DiscordError(404, 10003, "Unknown Channel")
        return self._channels[cid]

    def _message(self, mid: str, cid: str | None = None) -> dict[str, Any]:
        msg = self._messages.get(mid)
        if msg is None or (cid is not None and msg["channel_id"] != cid):
            raise DiscordError(404, 10008, "Unknown Message")
        return msg

    def _store_file(self, filename: str, data: bytes, content_type: str) -> dict[str, Any]:
        aid = self._id()
        self._files[aid] = (filename, data, content_type)
        url = f"{self.base_url}/attachments/{aid}/{filename}"
        attachment = {"id": aid, "filename": filename, "size": len(data), "url": url}
        return attachment | {"proxy_url": url, "content_type": content_type}

    # ------------------------------------------------------------------ Discord's form limits

    @staticmethod
    def _check_message(body: dict[str, Any], *, creating: bool) -> None:
        """Apply Discord's message limits; raise 50035 with every violation found."""
        errors: dict[str, str] = {}

        def limit(path: str, value: Any, most: int) -> int:
            n = len(value or "")
            if n > most:
                errors[path] = f"Must be {most} or fewer in length."
            return n

        limit("content", body.get("content"), 2000)
        embeds = body.get("embeds") or []
        limit("embeds", embeds, 10)
        total = 0
        for i, embed in enumerate(embeds):
            total += limit(f"embeds.{i}.title", embed.get("title"), 256)
            total += limit(f"embeds.{i}.description", embed.get("description"), 4096)
            total += limit(f"embeds.{i}.footer.text", (embed.get("footer") or {}).get("text"), 2048)
            total += limit(f"embeds.{i}.author.name", (embed.get("author") or {}).get("name"), 256)
            fields = embed.get("fields") or []
            limit(f"embeds.{i}.fields", fields, 25)
            for j, fld in enumerate(fields):
                total += limit(f"embeds.{i}.fields.{j}.name", fld.get("name"), 256)
                total += limit(f"embeds.{i}.fields.{j}.value", fld.get("value"), 1024)
        if total > 6000:
            errors["embeds"] = f"Embed size exceeds maximum size of 6000 ({total})"
        rows = body.get("components") or []
        limit("components", rows, 5)
        seen: set[str] = set()
        for i, row in enumerate(rows):
            limit(f"components.{i}.components", row.get("components"), 5)
            for j, comp in enumerate(row.get("components") or []):
                path = f"components.{i}.components.{j}"
                if comp.get("type") == 2:
                    limit(f"{path}.label", comp.get("label"), 80)
                if (cid := comp.get("custom_id")) is not None:
                    limit(f"{path}.custom_id", cid, 100)
                    if cid in seen:
                        errors[f"{path}.custom_id"] = "Component custom id cannot be duplicated"
                    seen.add(cid)
        if errors:
            raise invalid_form(errors)
        parts = ("content", "embeds", "components")
        if creating and not any(body.get(k) for k in parts):
            raise DiscordError(400, 50006, "Cannot send an empty message")

    # ------------------------------------------------------------------- messages (the store)

    def _new_message(
        self,
        cid: str,
        body: dict[str, Any],
        *,
        author: str = "bot",
        flags: int = 0,
        interaction: InteractionRecord | None = None,
    ) -> dict[str, Any]:
        mid = self._id()
        msg: dict[str, Any] = {
            "id": mid,
            "channel_id": cid,
            "guild_id": self.guild_id,
            "author": self.bot_user if author == "bot" else self.users[author],
            "content": body.get("content") or "",
            "embeds": [{"type": "rich", **e} for e in body.get("embeds") or []],
            "components": body.get("components") or [],
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": _now(),
            "edited_timestamp": None,
            "flags": flags,
            "type": 0,
        }
        if ref := body.get("message_reference"):
            ref = {k: str(v) if k.endswith("_id") else v for k, v in ref.items()}
            target = self._messages.get(ref.get("message_id", ""))
            if target is not None:
                msg.update(type=19, message_reference=ref, referenced_message=copy.copy(target))
            elif ref.get("fail_if_not_exists", True):
                raise invalid_form({"message_reference": "Unknown message"})
        if interaction is not None:
            msg.update(
                type=20 if interaction.type == 2 else 0,
                webhook_id=self.app_id,
                application_id=self.app_id,
                interaction_metadata={
                    "id": interaction.id,
                    "type": interaction.type,
                    "user": self.users[interaction.user],
                    "authorizing_integration_owners": {"0": self.guild_id},
                },
            )
        self._messages[mid] = msg
        self._history.setdefault(cid, []).append(mid)
        self._asked_mentions[mid] = body.get("allowed_mentions")
        return msg

    def _edit_message(self, mid: str, body: dict[str, Any]) -> dict[str, Any]:
        self._check_message(body, creating=False)
        old = self._message(mid)
        new = {**old, "edited_timestamp": _now()}
        self._asked_mentions[mid] = body.get("allowed_mentions")
        if "content" in body:
            new["content"] = body["content"] or ""
        if "embeds" in body:
            new["embeds"] = [{"type": "rich", **e} for e in body["embeds"] or []]
        if "components" in body:
            new["components"] = body["components"] or []
        new["flags"] &= ~LOADING  # an edit resolves a "thinking…" message
        self._messages[mid] = new
        return new

    def _event(self, msg: dict[str, Any]) -> dict[str, Any] | None:
        """The gateway form of a message, or None when Discord would not dispatch it."""
        if msg["flags"] & EPHEMERAL:
            return None
        author = "bot" if msg["author"]["id"] == self.bot_id else None
        author = author or next(k for k, u in self.users.items() if u["id"] == msg["author"]["id"])
        return {**msg, "member": self._member(author, with_user=False)}

    # ------------------------------------------------------------------------------ gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = _Connection(ws)
        self._connections.append(conn)
        try:
            await self._send(conn, 10, {"heartbeat_interval": HEARTBEAT_INTERVAL_MS})
            async for frame in ws:
                if frame.type is not WSMsgType.TEXT:
                    continue
                payload = json.loads(frame.data)
                op, data = payload.get("op"), payload.get("d")
                if op == 1:  # HEARTBEAT
                    await self._send(conn, 11, None)
                elif op == 2:  # IDENTIFY
                    await self._identify(conn, data)
                elif op == 6:  # RESUME: nothing is replayed, the session simply continues
                    conn.identified = True
                    await self._send(conn, 0, {}, "RESUMED")
        finally:
            self._connections.remove(conn)
        return ws

    async def _identify(self, conn: _Connection, data: dict[str, Any]) -> None:
        self.identifies.append(data)
        self.tokens.append(str(data.get("token")))
        conn.intents, conn.identified = int(data.get("intents") or 0), True
        ready = {
            "v": 10,
            "user": {**self.bot_user, "verified": True, "mfa_enabled": False},
            "guilds": [{"id": self.guild_id, "unavailable": True}],
            "session_id": secrets.token_hex(16),
            "resume_gateway_url": self.gateway_url,
            "application": {"id": self.app_id, "flags": (1 << 19) | (1 << 15)},
            "private_channels": [],
            "relationships": [],
        }
        if "shard" in data:
            ready["shard"] = data["shard"]
        await self._send(conn, 0, ready, "READY")
        with self._lock:
            guild = copy.deepcopy(self._guild())
        await self._send(conn, 0, guild, "GUILD_CREATE")

    async def _send(self, conn: _Connection, op: int, data: Any, event: str | None = None) -> None:
        async with conn.lock:  # one frame at a time, sequence numbers in order
            seq = None
            if op == 0:
                conn.seq += 1
                seq = conn.seq
            await conn.ws.send_str(json.dumps({"op": op, "d": data, "s": seq, "t": event}))

    async def _dispatch(self, event: str, data: dict[str, Any] | None) -> int:
        """Send an event to every identified session (filtered by its intents)."""
        if data is None:
            return 0
        sent = 0
        for conn in [c for c in self._connections if c.identified]:
            payload = data
            if event.startswith("MESSAGE_"):
                if not conn.intents & GUILD_MESSAGES:
                    continue
                mentioned = any(m["id"] == self.bot_id for m in data.get("mentions", []))
                own = data.get("author", {}).get("id") == self.bot_id
                hidden = not (conn.intents & MESSAGE_CONTENT or own or mentioned)
                if hidden and event != "MESSAGE_DELETE":
                    blank = {"content": "", "embeds": [], "attachments": [], "components": []}
                    payload = {**data, **blank}
            await self._send(conn, 0, payload, event)
            sent += 1
        return sent

    # ------------------------------------------------------------------------ REST plumbing

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body: Any = None
        if request.can_read_body and (raw := await request.read()):
            body = json.loads(raw)  # newsbot uploads no files: every body is JSON
        request[BODY] = body
        path = request.path.removeprefix(API)
        if request.path != "/gateway":
            self.calls.append(Call(request.method, path, body))
        try:
            # Interaction webhooks authenticate by their token in the path; the rest need the bot's.
            api = request.path.startswith(API + "/")
            if api and not path.startswith(("/webhooks/", "/interactions/")):
                auth = request.headers.get("Authorization", "")
                if not auth.startswith("Bot ") or len(auth) < 5:
                    raise DiscordError(401, 0, "401: Unauthorized")
                self.tokens.append(auth[4:])
            return await handler(request)
        except DiscordError as exc:
            self.rejections.append(
                Rejection(request.method, path, exc.status, exc.code, exc.reason)
            )
            return _json(exc.payload(), exc.status)

    async def _unknown(self, request: web.Request) -> web.Response:
        self.unhandled.append(Call(request.method, request.path.removeprefix(API), request[BODY]))
        return _json({"message": "404: Not Found", "code": 0}, 404)

    async def _attachment(self, request: web.Request) -> web.Response:
        found = self._files.get(request.match_info["aid"])
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[1], headers={"Content-Type": found[2]})

    async def _me(self, _: web.Request) -> web.Response:
        return _json(self.bot_user)

    async def _typing(self, _: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _application(self, _: web.Request) -> web.Response:
        return _json(
            {
                "id": self.app_id,
                "name": "newsbot",
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": self.users["admin"],
                "team": None,
                "verify_key": "0" * 64,
                "flags": (1 << 19) | (1 << 15),
                "interactions_endpoint_url": None,  # set would mean: no gateway interactions
                "bot": self.bot_user,
            }
        )

    # ------------------------------------------------------------------------------ commands

    def _command_scope(self, request: web.Request) -> str | None:
        if request.match_info["app"] != self.app_id:
            raise DiscordError(404, 10002, "Unknown Application")
        guild = request.match_info.get("guild")
        if guild is not None and guild != self.guild_id:
            raise DiscordError(404, 10004, "Unknown Guild")
        return guild

    async def _put_commands(self, request: web.Request) -> web.Response:
        scope, body = self._command_scope(request), request[BODY]
        if not isinstance(body, list):
            raise invalid_form({"_": "Must be an array"})
        errors: dict[str, str] = {}
        with self._lock:
            old = {(c["name"], c["type"]): c for c in self._commands.get(scope, [])}
            stored = []
            for i, cmd in enumerate(body):
                name, kind = cmd.get("name", ""), cmd.get("type", 1)
                if (kind == 1 and not re.fullmatch(r"[-_\w]{1,32}", name)) or name != name.lower():
                    errors[f"{i}.name"] = "Command name is invalid"
                if kind == 1 and not 1 <= len(cmd.get("description") or "") <= 100:
                    errors[f"{i}.description"] = "Must be between 1 and 100 in length."
                previous = old.get((name, kind))  # Discord keeps a command's id across syncs
                defaults: dict[str, Any] = {
                    "default_member_permissions": None,
                    "nsfw": False,
                    "options": [],
                }
                stored.append({**defaults, **cmd, "type": kind, "application_id": self.app_id})
                stored[-1].update(id=previous["id"] if previous else self._id(), version=self._id())
                if scope:
                    stored[-1]["guild_id"] = scope
            if len(body) > 100:
                errors["_"] = "Must be 100 or fewer in length."
            if errors:
                raise invalid_form(errors)
            self._commands[scope] = stored
        return _json(stored)

    def commands(self, *, guild: bool = True) -> list[dict[str, Any]]:
        """The commands last synced to the guild (or globally, with guild=False)."""
        with self._lock:
            return copy.deepcopy(self._commands.get(self.guild_id if guild else None, []))

    # -------------------------------------------------------------------------- interactions

    async def _callback(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = request[BODY] or {}
        arrived = time.monotonic()
        events: list[tuple[str, dict[str, Any] | None]] = []
        with self._lock:
            it = self._interactions.get(request.match_info["iid"])
            if it is None or it.token != request.match_info["token"]:
                raise DiscordError(404, 10062, "Unknown interaction")
            if it.acked:
                raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
            if arrived - it.sent_at > self.ack_deadline:
                late = f"Unknown interaction (acknowledged after {arrived - it.sent_at:.2f}s)"
                raise DiscordError(404, 10062, late)
            kind, data = body.get("type"), body.get("data") or {}
            on_button = it.type == 3
            resource: dict[str, Any] = {"type": kind}
            if kind == 4:
                self._check_message(data, creating=True)
                flags = (data.get("flags") or 0) & SEND_FLAGS
                msg = self._new_message(it.channel_id, data, flags=flags, interaction=it)
                events.append(("MESSAGE_CREATE", self._event(msg)))
            elif kind == 5:
                flags = LOADING | ((data.get("flags") or 0) & EPHEMERAL)
                msg = self._new_message(it.channel_id, {}, flags=flags, interaction=it)
                events.append(("MESSAGE_CREATE", self._event(msg)))
            elif kind in (6, 7) and on_button and it.message_id:
                msg = self._message(it.message_id)
                if kind == 7:
                    msg = self._edit_message(it.message_id, data)
                    events.append(("MESSAGE_UPDATE", self._event(msg)))
            else:
                raise invalid_form({"type": f"Response type {kind} is not valid here"})
            it.acked, it.response_type = True, kind
            it.original_id = msg["id"]
            self.ack_latency[it.id] = arrived - it.sent_at
            resource["message"] = msg
            reply = {
                "interaction": {
                    "id": it.id,
                    "type": it.type,
                    "response_message_id": it.original_id,
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": bool(msg["flags"] & EPHEMERAL),
                },
                "resource": resource,
            }
        for event, payload in events:
            await self._dispatch(event, payload)
        return _json(reply) if request.query.get("with_response") else web.Response(status=204)

    def _interaction_for(self, request: web.Request) -> InteractionRecord:
        it = self._by_token.get(request.match_info["token"])
        if request.match_info["app"] != self.app_id or it is None or not it.acked:
            raise DiscordError(404, 10015, "Unknown Webhook")
        return it

    async def _followup(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = request[BODY] or {}
        with self._lock:
            it = self._interaction_for(request)
            self._check_message(body, creating=True)
            original = self._messages.get(it.original_id or "")
            if it.response_type == 5 and original and original["flags"] & LOADING:
                # Discord: the first follow-up after a "thinking" defer replaces that message,
                # keeping the defer's ephemerality whatever the follow-up asks for.
                msg, event = self._edit_message(original["id"], body), "MESSAGE_UPDATE"
            else:
                flags = (body.get("flags") or 0) & SEND_FLAGS
                msg = self._new_message(it.channel_id, body, flags=flags, interaction=it)
                event = "MESSAGE_CREATE"
            it.followup_ids.append(msg["id"])
        await self._dispatch(event, self._event(msg))
        wait = request.query.get("wait", "").lower() in ("1", "true")
        return _json(msg) if wait else web.Response(status=204)

    async def _webhook_message(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = request[BODY] or {}
        with self._lock:
            it = self._interaction_for(request)
            mid: str | None = request.match_info["mid"]
            mid = it.original_id if mid == "@original" else mid
            if mid is None or (mid != it.original_id and mid not in it.followup_ids):
                raise DiscordError(404, 10008, "Unknown Message")
            msg = self._message(mid)
            if request.method == "PATCH":
                msg = self._edit_message(mid, body)
            elif request.method == "DELETE":
                del self._messages[mid]
        if request.method == "DELETE":
            ids = {"id": mid, "channel_id": msg["channel_id"], "guild_id": self.guild_id}
            await self._dispatch("MESSAGE_DELETE", None if msg["flags"] & EPHEMERAL else ids)
            return web.Response(status=204)
        if request.method == "PATCH":
            await self._dispatch("MESSAGE_UPDATE", self._event(msg))
        return _json(msg)

    # ------------------------------------------------------------------------------ channels

    async def _get_channel(self, request: web.Request) -> web.Response:
        with self._lock:
            return _json(self._channel(request.match_info["cid"]))

    async def _post_message(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = request[BODY] or {}
        with self._lock:
            cid = self._channel(request.match_info["cid"])["id"]
            self._check_message(body, creating=True)
            # Discord: with enforce_nonce, a nonce already used (in the last few minutes)
            # returns the message created with it, and no new message is created.
            nonce = (cid, str(body.get("nonce"))) if body.get("enforce_nonce") else None
            if nonce is not None and nonce in self._nonces:
                return _json(self._messages[self._nonces[nonce]])
            flags = (body.get("flags") or 0) & SEND_FLAGS & ~EPHEMERAL
            msg = self._new_message(cid, body, flags=flags)
            if nonce is not None and body.get("nonce") is not None:
                self._nonces[nonce] = msg["id"]
        await self._dispatch("MESSAGE_CREATE", self._event(msg))
        return _json(msg)

    async def _get_history(self, request: web.Request) -> web.Response:
        limit = int(request.query.get("limit", 50))
        if not 1 <= limit <= 100:
            raise invalid_form({"limit": "Int value should be between 1 and 100."})
        before = request.query.get("before")  # newsbot reads a thread backwards from a message
        with self._lock:
            cid = self._channel(request.match_info["cid"])["id"]
            found = [self._messages[m] for m in self._history.get(cid, []) if m in self._messages]
        found = [m for m in found if not m["flags"] & EPHEMERAL]
        found = [m for m in found if not before or int(m["id"]) < int(before)]
        return _json(found[::-1][:limit])

    async def _get_message(self, request: web.Request) -> web.Response:
        with self._lock:
            cid = self._channel(request.match_info["cid"])["id"]
            return _json(self._message(request.match_info["mid"], cid))

    async def _post_thread(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = request[BODY] or {}
        mid = request.match_info["mid"]
        with self._lock:
            parent = self._channel(request.match_info["cid"])
            if parent["type"] not in (0, 5):
                raise invalid_form({"channel_id": "Threads need a text channel as parent"})
            if not 1 <= len(body.get("name") or "") <= 100:
                raise invalid_form({"name": "Must be between 1 and 100 in length."})
            starter = self._message(mid, parent["id"])
            if "thread" in starter:
                raise DiscordError(
                    400, 160004, "A thread has already been created for this message"
                )
            # A thread started from a message has the message's id, as on Discord.
            tid, now = mid, _now()
            thread = {
                "id": tid,
                "type": 11,
                "guild_id": self.guild_id,
                "parent_id": parent["id"],
                "owner_id": self.bot_id,
                "name": body["name"],
                "last_message_id": None,
                "message_count": 0,
                "member_count": 1,
                "total_message_sent": 0,
                "rate_limit_per_user": body.get("rate_limit_per_user") or 0,
                "flags": 0,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": body.get("auto_archive_duration") or 1440,
                    "archive_timestamp": now,
                    "locked": False,
                    "create_timestamp": now,
                },
                "member": {"id": tid, "user_id": self.bot_id, "join_timestamp": now, "flags": 0},
            }
            self._channels[tid] = thread
            self._messages[mid] = {**starter, "thread": thread}
        await self._dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return _json(thread, 201)

    # --------------------------------------------------------------------- test-side actions

    def add_attachment(
        self, filename: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> dict[str, Any]:
        """Register a file the fake serves; pass the result as an attachment option value."""
        if not self.port:
            raise RuntimeError("start() the fake before adding attachments")
        with self._lock:
            return self._store_file(filename, data, content_type)

    def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: str = "admin",
        channel: str | None = None,
    ) -> str:
        """Invoke a synced slash command (`"group sub"` for subcommands); returns the id.

        Option types come from the synced schema; attachment options take the dict from
        `add_attachment`.
        """
        parts = name.split()
        with self._lock:
            synced = self._commands.get(self.guild_id, []) + self._commands.get(None, [])
            cmd = next((c for c in synced if c["name"] == parts[0] and c["type"] == 1), None)
            if cmd is None:
                known = sorted(c["name"] for c in synced)
                raise LookupError(f"/{parts[0]} was never synced to Discord (synced: {known})")
            schema, chain = cmd.get("options") or [], []
            for sub in parts[1:]:
                found = [o for o in schema if o["name"] == sub and o["type"] in (1, 2)]
                if not found:
                    raise LookupError(f"/{name}: no subcommand {sub!r}")
                chain.append(found[0])
                schema = found[0].get("options") or []
            resolved: dict[str, dict[str, Any]] = {}
            values = self._options(name, schema, options or {}, resolved)
            for sub_opt in reversed(chain):
                values = [{"name": sub_opt["name"], "type": sub_opt["type"], "options": values}]
            data = {"id": cmd["id"], "name": cmd["name"], "type": 1, "options": values}
            if "guild_id" in cmd:
                data["guild_id"] = cmd["guild_id"]
            if resolved:
                data["resolved"] = resolved
            it, payload = self._new_interaction(2, data, user, self._check_actor(user, channel))
        self._run(self._send_interaction(it, payload))
        return it.id

    def _options(
        self, name: str, schema: list[dict[str, Any]], given: dict[str, Any], resolved: dict
    ) -> list[dict[str, Any]]:
        by_name = {o["name"]: o for o in schema}
        missing = [o["name"] for o in schema if o.get("required") and o["name"] not in given]
        if missing:
            raise ValueError(f"/{name}: required options missing: {missing}")
        out = []
        for key, given_value in given.items():
            value = given_value
            if key not in by_name:
                raise ValueError(f"/{name} has no option {key!r} (it has {sorted(by_name)})")
            kind = by_name[key]["type"]
            if kind == 11:  # attachment: the value is its id, the object goes in `resolved`
                resolved.setdefault("attachments", {})[value["id"]] = value
                value = value["id"]
            out.append({"name": key, "type": kind, "value": value})
        return out

    def click(self, message_id: str, custom_id: str, *, user: str = "admin") -> str:
        """Press a button on a message the bot sent; returns the interaction id."""
        with self._lock:
            msg = self._messages.get(message_id)
            if msg is None or msg["author"]["id"] != self.bot_id:
                raise LookupError(f"no bot message {message_id}")
            buttons = [b for row in msg["components"] for b in row.get("components") or []]
            button = next((b for b in buttons if b.get("custom_id") == custom_id), None)
            if button is None or button.get("disabled"):
                ids = [b.get("custom_id") for b in buttons]
                raise LookupError(f"no enabled button {custom_id!r} on {message_id} ({ids})")
            data: dict[str, Any] = {"custom_id": custom_id, "component_type": button["type"]}
            it, payload = self._new_interaction(3, data, user, msg["channel_id"], message=msg)
            it.message_id = message_id
        self._run(self._send_interaction(it, payload))
        return it.id

    def say(
        self,
        content: str,
        *,
        user: str = "user",
        channel: str | None = None,
        mention_bot: bool = False,
    ) -> str:
        """A member posts a message (optionally mentioning the bot); returns its id."""
        body: dict[str, Any] = {
            "content": f"<@{self.bot_id}> {content}" if mention_bot else content
        }
        with self._lock:
            msg = self._new_message(self._check_actor(user, channel), body, author=user)
            del self._asked_mentions[msg["id"]]
            if mention_bot:
                msg["mentions"] = [
                    {**self.bot_user, "member": self._member("bot", with_user=False)}
                ]
            event = self._event(msg)
        self._run(self._dispatch("MESSAGE_CREATE", event))
        return msg["id"]

    def _check_actor(self, user: str, channel: str | None) -> str:
        """Validate a test-side actor and place; returns the channel id."""
        if user not in self.users:
            raise ValueError(f"user must be one of {sorted(self.users)}, not {user!r}")
        cid = channel or self.channel_id
        if cid not in self._channels:
            raise LookupError(f"no channel or thread {cid}")
        return cid

    def _new_interaction(
        self, kind: int, data: dict[str, Any], user: str, cid: str, **extra: Any
    ) -> tuple[InteractionRecord, dict[str, Any]]:
        self._check_actor(user, cid)
        perms = str(self._permissions(user))
        it = InteractionRecord(self._id(), "fake_" + secrets.token_urlsafe(32), kind, cid, user)
        payload = {
            "id": it.id,
            "application_id": self.app_id,
            "type": kind,
            "data": data,
            "guild_id": self.guild_id,
            "guild": {"id": self.guild_id, "locale": "en-US", "features": []},
            "channel_id": cid,
            "channel": {**self._channel(cid), "permissions": perms},
            "member": {**self._member(user), "permissions": perms},
            "token": it.token,
            "version": 1,
            "app_permissions": str(BASIC_PERMISSIONS),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": self.guild_id},
            "context": 0,
            "attachment_size_limit": 10 * 2**20,
            **extra,
        }
        self._interactions[it.id], self._by_token[it.token] = it, it
        return it, copy.deepcopy(payload)

    async def _send_interaction(self, it: InteractionRecord, payload: dict[str, Any]) -> None:
        it.sent_at = time.monotonic()
        if not await self._dispatch("INTERACTION_CREATE", payload):
            raise RuntimeError("no bot is connected to the fake gateway")

    # -------------------------------------------------------------------------------- queries

    def _view(self, mid: str | None) -> dict[str, Any] | None:
        """A copy of a stored message for the test, with the allowed_mentions last asked for."""
        if mid is None or mid not in self._messages:
            return None
        view = copy.deepcopy(self._messages[mid])
        if mid in self._asked_mentions:
            view["allowed_mentions"] = copy.deepcopy(self._asked_mentions[mid])
        return view

    def messages(self, channel_id: str | None = None) -> list[dict[str, Any]]:
        """Messages in a channel or thread, oldest first (ephemeral ones included, flag 64)."""
        with self._lock:
            views = map(self._view, self._history.get(channel_id or self.channel_id, []))
            return [v for v in views if v is not None]

    def message(self, message_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._view(message_id)

    def threads(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(c) for c in self._channels.values() if c["type"] in (11, 12)]

    def interaction(self, interaction_id: str) -> InteractionRecord:
        with self._lock:
            return copy.deepcopy(self._interactions[interaction_id])

    def original_response(self, interaction_id: str) -> dict[str, Any] | None:
        """The message the interaction's response created or updated (None before that)."""
        with self._lock:
            return self._view(self._interactions[interaction_id].original_id)

    def followups(self, interaction_id: str) -> list[dict[str, Any]]:
        """Follow-up messages (the first one after a "thinking" defer is the original)."""
        with self._lock:
            views = map(self._view, self._interactions[interaction_id].followup_ids)
            return [v for v in views if v is not None]

    def wait_for(self, predicate: Callable[[], T | Falsy], timeout: float = 30.0) -> T:
        """Poll `predicate()` until it returns something truthy; return that (blocking)."""
        deadline = time.monotonic() + timeout
        while not (result := predicate()):
            if time.monotonic() > deadline:
                raise TimeoutError(self._timeout_report(timeout))
            time.sleep(0.02)
        return result

    def _timeout_report(self, timeout: float) -> str:
        recent = "\n  ".join(f"{c.method} {c.path}" for c in self.calls[-10:])
        return (
            f"condition not met within {timeout}s; last calls:\n  {recent}\n"
            f"rejections: {self.rejections}\nunhandled: {self.unhandled}"
        )
