"""Every setting, read from the environment and `.env` (prefix NEWSBOT_); see .env.example.

The settings are grouped as the library configurations they build: a group's fields carry
that configuration's field names and take its defaults, so `build()` hands the group over
whole (`ChunkLimits(**...)`), with no value copied by hand and no default written twice.
Each setting keeps its flat environment name (NEWSBOT_CHROMA_PORT, NEWSBOT_SEARCH_CANDIDATES):
a field's alias is that name without the prefix, and `_FlatNames` reads the environment and
`.env` by it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bot.discord.config import BotConfig
from bot.follow_store import MAX_PER_USER
from bot.texts import parse_clock
from ingest.chunk import ChunkLimits
from ingest.feeds import PollLimits
from ingest.fetch import FetchPolicy
from ingest.fetch_policy import MB
from ingest.subscriptions import DEFAULT_EVERY
from ingest.syndication import Syndication
from retrieval import (
    ChatModelConfig,
    ChromaLocation,
    EmbeddingPrecision,
    EmbeddingRuntime,
    ExtractiveConfig,
    IndexConfig,
    QuestionPrecision,
)


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _id_set(value: object) -> object:
    if not isinstance(value, str):
        return value
    parts = [part for part in value.replace(" ", "").split(",") if part]
    for part in parts:
        if not part.isdigit():
            raise ValueError(f"expected comma-separated numeric ids, got {part!r}")
    return frozenset(int(part) for part in parts)


def _outlet_pairs(value: object) -> object:
    if not isinstance(value, str):
        return value
    pairs = []
    for pair in filter(None, (part.strip() for part in value.split(","))):
        host, _, name = pair.partition("=")
        if not host.strip() or not name.strip() or "/" in host or " " in host.strip():
            raise ValueError(f"expected host=Name pairs, got {pair!r}")
        pairs.append((host.strip().lower(), name.strip()))
    return tuple(pairs)


BlankIsNone = BeforeValidator(_blank_is_none)  # a blank value is no value
# Written as comma-separated numbers ("123, 456"); an empty set when blank.
IdSet = Annotated[
    frozenset[int],
    BeforeValidator(_id_set),
    PlainSerializer(lambda ids: ",".join(map(str, sorted(ids)))),
]
# Written as host=Name pairs ("reuters.com=Reuters, bbc.co.uk=BBC"), hosts lowercased.
OutletNames = Annotated[
    tuple[tuple[str, str], ...],
    BeforeValidator(_outlet_pairs),
    PlainSerializer(lambda pairs: ",".join(f"{host}={name}" for host, name in pairs)),
]


class Group(BaseModel):
    """Settings that build one library configuration; fields are read by name or by alias."""

    model_config = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True)
    title: ClassVar[str]  # the heading of its settings in .env.example

    def _shared(self, config: type) -> dict[str, Any]:
        """This group's values under the names `config` (a dataclass) also has."""
        names = {field.name for field in dataclasses.fields(config)}
        return {name: getattr(self, name) for name in type(self).model_fields if name in names}


class ChromaSettings(Group):
    title: ClassVar[str] = "Chroma: where the passages and their vectors are kept"

    path: Path | None = Field(
        ChromaLocation.path,
        alias="chroma_path",
        description="Directory of the embedded Chroma database (default: DATA_DIR/chroma).",
    )
    host: Annotated[str | None, BlankIsNone] = Field(
        ChromaLocation.host,
        alias="chroma_host",
        description="Host of a Chroma server; when set, it is used instead of embedded.",
    )
    port: int = Field(
        ChromaLocation.port, alias="chroma_port", description="Port of the Chroma server."
    )
    ssl: bool = Field(
        ChromaLocation.ssl, alias="chroma_ssl", description="Use https to reach the Chroma server."
    )
    connect_timeout: float = Field(
        ChromaLocation.connect_timeout,
        gt=0,
        alias="chroma_connect_timeout",
        description="Seconds to connect to the Chroma server.",
    )
    request_timeout: float = Field(
        ChromaLocation.request_timeout,
        gt=0,
        alias="chroma_timeout",
        description="Seconds to wait for the Chroma server to answer before giving up with an "
        "error (a server that stopped or hangs is then reported in one line).",
    )

    def directory(self, data_dir: Path) -> Path:
        """The embedded database's directory."""
        return self.path or data_dir / "chroma"

    def build(self, data_dir: Path) -> ChromaLocation:
        """The server when a host is set, else the embedded database in its directory."""
        path = None if self.host else self.directory(data_dir)
        return ChromaLocation(**self._shared(ChromaLocation) | {"path": path})


class ExtractiveSettings(Group):
    title: ClassVar[str] = "Extractive answers: quoted sentences"

    max_sentences: int = Field(
        ExtractiveConfig.max_sentences,
        ge=1,
        le=20,
        alias="answer_max_sentences",
        description="Most quoted sentences in an extractive answer.",
    )
    min_relevance: float = Field(
        ExtractiveConfig.min_relevance,
        alias="answer_min_relevance",
        description="Below this relevance (best cosine + half the question-word coverage) the "
        "answer is that the coverage doesn't say; calibrated for the bundled model.",
    )

    def build(self) -> ExtractiveConfig:
        return ExtractiveConfig(**self._shared(ExtractiveConfig))


class ChatSettings(Group):
    title: ClassVar[str] = "A chat model that writes the answers (optional)"

    model: Annotated[str | None, BlankIsNone] = Field(
        None,
        alias="llm",
        description="Chat model as LangChain's init_chat_model names it (openai:gpt-4o-mini, "
        "anthropic:claude-sonnet-4-5, ollama:llama3.1); empty: the extractive answerer.",
    )
    base_url: Annotated[str | None, BlankIsNone] = Field(
        ChatModelConfig.base_url,
        alias="llm_base_url",
        description="Base URL of an OpenAI-compatible server (vLLM, llama.cpp, Ollama /v1).",
    )
    api_key: Annotated[SecretStr | None, BlankIsNone] = Field(
        None,
        alias="llm_api_key",
        description="API key for the chat model; else the provider's own variable "
        "(OPENAI_API_KEY, ANTHROPIC_API_KEY) is used.",
    )
    temperature: float = Field(
        ChatModelConfig.temperature,
        ge=0,
        le=2,
        alias="llm_temperature",
        description="Chat model temperature.",
    )
    timeout: float = Field(
        ChatModelConfig.timeout,
        gt=0,
        alias="llm_timeout",
        description="Seconds the chat model may take per answer, retries included.",
    )
    max_tokens: int = Field(
        ChatModelConfig.max_tokens,
        ge=16,
        alias="llm_max_tokens",
        description="Most tokens in a chat model answer.",
    )
    max_retries: int = Field(
        ChatModelConfig.max_retries,
        ge=0,
        alias="llm_max_retries",
        description="Retries after a failed chat model call (429, 5xx, network).",
    )

    def build(self) -> ChatModelConfig | None:
        """The chat model's configuration, or None (no model named: extractive answers)."""
        if self.model is None:
            return None
        key = self.api_key.get_secret_value() if self.api_key else None
        return ChatModelConfig(**self._shared(ChatModelConfig) | {"api_key": key})


class IndexSettings(Group):
    title: ClassVar[str] = "The index: the embedding model and search"

    collection: str = Field(
        IndexConfig.collection,
        alias="chroma_collection",
        description="Name prefix of the Chroma collections (3-50 letters, digits, _-).",
    )
    embedding_model: str = Field(
        IndexConfig.embedding_model,
        description="sentence-transformers model; the default is the bundled offline copy.",
    )
    device: str = Field(
        IndexConfig.device,
        alias="embedding_device",
        description="Device for the embedding model (cpu, cuda).",
    )
    embedding_precision: EmbeddingPrecision = Field(
        IndexConfig.embedding_precision,
        description=(
            "Arithmetic of a passage's embedding on the CPU: auto uses bfloat16 where the CPU "
            "has it natively (AMX or AVX512-BF16: ~2x faster, cosine 0.99998 to float32), else "
            "float32; or float32, bfloat16 or int8 (onnxruntime, a smoothed int8 copy that its "
            "questions use too: an ingest 1.4-1.9x faster than float32 where there is no "
            "bfloat16; on the MultiHop-RAG dev split, retrieval within 0.004 of float32's, the "
            "answers' evidence for every part 0.013-0.014 lower). An index keeps what its first "
            "passages were embedded in: auto follows it, and a precision it cannot mix with (int8 "
            "against float32/bfloat16) is an error."
        ),
    )
    embedding_runtime: EmbeddingRuntime = Field(
        IndexConfig.embedding_runtime,
        description=(
            "What runs the embedding model on the CPU: auto uses onnxruntime (a copy exported "
            "once into MODEL_CACHE_DIR and checked against torch; a question embeds ~3x "
            "faster, the same vectors) and falls back to torch where the model won't export; "
            "torch; or onnx (an error where it can't run)."
        ),
    )
    embedding_question_precision: QuestionPrecision = Field(
        IndexConfig.embedding_question_precision,
        description=(
            "Arithmetic of a question's embedding (its search and its answer's sentences) on "
            "onnxruntime: int8 (a copy with int8 weights, made once beside the float32 one: "
            "~1.5x faster, cosine 0.98-0.99 to float32, retrieval quality unchanged) or "
            "float32. Passages: NEWSBOT_EMBEDDING_PRECISION."
        ),
    )
    model_cache_dir: Path | None = Field(
        IndexConfig.model_cache_dir,
        description="Where the onnxruntime copies of the embedding model are kept (default: "
        "the user's cache, $XDG_CACHE_HOME/newsbot/models or ~/.cache/newsbot/models, made once "
        "per machine for every data dir; DATA_DIR/models where that cannot be written).",
    )
    embedding_batch_size: int = Field(
        IndexConfig.embedding_batch_size,
        ge=1,
        description="Texts per model batch on torch (16 measured fastest on 2 CPU cores); "
        "onnxruntime takes at most 4 (faster there).",
    )
    top_k: int = Field(
        IndexConfig.top_k, ge=1, le=50, description="Passages retrieved to answer a question."
    )
    candidates: int = Field(
        IndexConfig.candidates,
        ge=1,
        alias="search_candidates",
        description="Candidates taken from each of dense and keyword search before fusion.",
    )
    chroma: ChromaSettings = Field(default_factory=ChromaSettings)
    extractive: ExtractiveSettings = Field(default_factory=ExtractiveSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)

    def build(self, data_dir: Path, *, as_of: date | None = None) -> IndexConfig:
        """The index in `data_dir`; `as_of` reads relative dates in questions as if today were
        that day (evaluation)."""
        return IndexConfig(
            **self._shared(IndexConfig)
            | {
                "data_dir": data_dir,
                "chroma": self.chroma.build(data_dir),
                "extractive": self.extractive.build(),
                "chat": self.chat.build(),
                "as_of": as_of,
            }
        )


class ChunkSettings(Group):
    title: ClassVar[str] = "Passages: how an article is cut"

    max_tokens: int = Field(
        ChunkLimits.max_tokens,
        ge=16,
        alias="chunk_max_tokens",
        description="Most word-piece tokens in a passage (capped by the model's limit).",
    )
    target_tokens: int = Field(
        ChunkLimits.target_tokens,
        ge=1,
        alias="chunk_target_tokens",
        description="Short paragraphs are merged into passages of about this size.",
    )
    context_tokens: int = Field(
        ChunkLimits.context_tokens,
        ge=0,
        alias="chunk_context_tokens",
        description="Tokens of the previous passage embedded with each passage.",
    )
    max_passages: int = Field(
        ChunkLimits.max_passages,
        ge=1,
        description="Most passages embedded per article (the longest MultiHop-RAG article has "
        "145); the rest of a longer text is left out and reported in the ingest summary.",
    )

    def build(self) -> ChunkLimits:
        return ChunkLimits(**self._shared(ChunkLimits))


class SyndicationSettings(Group):
    title: ClassVar[str] = "Syndicated copies"

    threshold: float = Field(
        Syndication.threshold,
        gt=0,
        le=1,
        alias="dedup_threshold",
        description="Estimated word-shingle similarity above which an incoming article is a "
        "syndicated copy of a stored one: recorded as another publication, not indexed again.",
    )

    def build(self) -> Syndication:
        return Syndication(**self._shared(Syndication))


class FetchSettings(Group):
    title: ClassVar[str] = "Fetching web pages and feeds"

    allow_loopback: bool = Field(
        FetchPolicy.allow_loopback,
        alias="fetch_allow_loopback",
        description="Allow fetching from 127.0.0.0/8 and ::1 (tests and local use only); "
        "private and link-local addresses stay refused.",
    )
    total_timeout: float = Field(
        FetchPolicy.total_timeout,
        gt=0,
        alias="fetch_timeout",
        description="Seconds a page or feed fetch may take.",
    )
    max_mb: float = Field(
        FetchPolicy.max_bytes / MB,
        gt=0,
        alias="fetch_max_mb",
        description="Largest page or feed fetched.",
    )
    max_redirects: int = Field(
        FetchPolicy.max_redirects,
        ge=0,
        alias="fetch_max_redirects",
        description="Redirects followed when fetching.",
    )
    outlet_names: OutletNames = Field(
        FetchPolicy.outlet_names,
        description="Outlet names for fetched sites, as comma-separated host=Name pairs "
        "(reuters.com=Reuters); other pages keep a claimed site name only when it spells the "
        "site's domain (BBC News on bbc.co.uk), else the outlet is the host.",
    )

    def build(self) -> FetchPolicy:
        return FetchPolicy(**self._shared(FetchPolicy) | {"max_bytes": int(self.max_mb * MB)})


class FeedSettings(Group):
    title: ClassVar[str] = "Feeds"

    default_every: str = Field(
        DEFAULT_EVERY,
        alias="feed_default_every",
        description="How often a feed is polled when `feeds add` gives no --every.",
    )
    budget_seconds: float = Field(
        PollLimits.budget_seconds,
        gt=0,
        alias="feed_poll_budget",
        description="Seconds one poll of one feed may take, its pages included; entries not "
        "read in time wait for the next poll.",
    )
    max_new_entries: int = Field(
        PollLimits.max_new_entries,
        ge=1,
        alias="feed_max_new_entries",
        description="New entries read from one feed per poll; the rest wait their turn.",
    )

    def build(self) -> PollLimits:
        return PollLimits(**self._shared(PollLimits))


class DiscordSettings(Group):
    title: ClassVar[str] = "The Discord bot"

    token: Annotated[SecretStr | None, BlankIsNone] = Field(
        None,
        alias="discord_token",
        description="Bot token from Discord's developer portal; set it to run the bot.",
    )
    guild_id: Annotated[int | None, BlankIsNone] = Field(
        BotConfig.guild_id,
        alias="discord_guild_id",
        description="Sync slash commands to this server only (instant); else globally.",
    )
    api_base: Annotated[str | None, BlankIsNone] = Field(
        None,
        alias="discord_api_base",
        description="REST base of a Discord-compatible server, e.g. http://127.0.0.1:8080/api/v10.",
    )
    gateway_url: Annotated[str | None, BlankIsNone] = Field(
        None,
        alias="discord_gateway_url",
        description="Gateway of a Discord-compatible server, e.g. ws://127.0.0.1:8080/gateway.",
    )
    admin_role_ids: IdSet = Field(
        BotConfig.admin_role_ids,
        alias="discord_admin_role_ids",
        description="Comma-separated role ids allowed to use admin commands "
        "(besides Manage Server).",
    )
    admin_user_ids: IdSet = Field(
        BotConfig.admin_user_ids,
        alias="discord_admin_user_ids",
        description="Comma-separated user ids allowed to use admin commands.",
    )
    channel_ids: IdSet = Field(
        BotConfig.channel_ids,
        alias="discord_channel_ids",
        description="Comma-separated channel ids where the bot answers; empty: everywhere.",
    )
    cooldown_seconds: float = Field(
        BotConfig.cooldown_seconds,
        ge=0,
        alias="discord_cooldown_seconds",
        description="Seconds a user waits between two questions (0: no limit).",
    )
    max_concurrent: int = Field(
        BotConfig.max_concurrent,
        ge=1,
        alias="discord_max_concurrent",
        description="Questions and ingests worked on at once; the rest wait their turn.",
    )
    max_upload_mb: float = Field(
        BotConfig.max_upload_bytes / MB,
        gt=0,
        alias="discord_max_upload_mb",
        description="Largest attachment accepted by /ingest file:.",
    )
    feed_check_seconds: float = Field(
        BotConfig.feed_check_seconds,
        gt=0,
        description="How often the Discord bot looks for feeds that are due a poll (seconds).",
    )
    announce_channel_id: Annotated[int | None, BlankIsNone] = Field(
        BotConfig.announce_channel_id,
        alias="discord_announce_channel_id",
        description="Channel that gets a one-line note per feed poll that added articles, and "
        "the daily brief.",
    )
    brief_at: Annotated[str | None, BlankIsNone] = Field(
        None,
        description="Post the brief of the last 24 hours in the announce channel every day at "
        "this time (HH:MM, 24-hour, in NEWSBOT_BRIEF_TIMEZONE); blank: no daily brief.",
    )
    brief_timezone: str = Field(
        "UTC", description="Time zone of NEWSBOT_BRIEF_AT, an IANA name such as Europe/Berlin."
    )

    @field_validator("brief_at")
    @classmethod
    def _clock(cls, value: str | None) -> str | None:
        if value is not None:
            parse_clock(value)  # ValueError, saying what is expected
        return value

    @field_validator("brief_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        parse_clock("00:00", value)  # ValueError, saying what is expected
        return value

    @property
    def brief_time(self) -> time | None:
        """When the daily brief is posted (a time of day in its zone), or None."""
        return None if self.brief_at is None else parse_clock(self.brief_at, self.brief_timezone)

    def build(
        self,
        *,
        chunk_limits: ChunkLimits,
        fetch_policy: FetchPolicy,
        poll_limits: PollLimits,
        feed_default_every: str,
    ) -> BotConfig:
        return BotConfig(
            **self._shared(BotConfig)
            | {
                "max_upload_bytes": int(self.max_upload_mb * MB),
                "brief_at": self.brief_time,
                "chunk_limits": chunk_limits,
                "fetch_policy": fetch_policy,
                "poll_limits": poll_limits,
                "feed_default_every": feed_default_every,
            }
        )


class Settings(BaseSettings):
    """newsbot's configuration, in groups that build the library configurations."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(
        Path("data"), description="Where the index, the keyword index and other state live."
    )
    follow_max_per_user: int = Field(
        MAX_PER_USER, ge=1, description="Topics one Discord user may follow at once."
    )
    max_file_mb: float = Field(20.0, gt=0, description="Files larger than this are refused.")
    log_level: str = Field("WARNING", description="Logging level (DEBUG, INFO, WARNING, ERROR).")
    index: IndexSettings = Field(default_factory=IndexSettings)
    chunks: ChunkSettings = Field(default_factory=ChunkSettings)
    copies: SyndicationSettings = Field(default_factory=SyndicationSettings)
    fetch: FetchSettings = Field(default_factory=FetchSettings)
    feeds: FeedSettings = Field(default_factory=FeedSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        assert isinstance(env_settings, EnvSettingsSource)
        assert isinstance(dotenv_settings, EnvSettingsSource)  # DotEnvSettingsSource is one
        return (
            init_settings,
            _FlatNames(settings_cls, env_settings),
            _FlatNames(settings_cls, dotenv_settings),
            file_secret_settings,
        )

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * MB)

    def embedded_in(self, data_dir: Path) -> Settings:
        """These settings with the index embedded in `data_dir` (no server, no other path)."""
        chroma = self.index.chroma.model_copy(update={"path": None, "host": None})
        index = self.index.model_copy(update={"chroma": chroma})
        return self.model_copy(update={"data_dir": data_dir, "index": index})

    def without_chat(self) -> Settings:
        """These settings with the extractive answerer (no chat model)."""
        index = self.index.model_copy(update={"chat": ChatSettings()})
        return self.model_copy(update={"index": index})

    def index_config(self, *, as_of: date | None = None) -> IndexConfig:
        return self.index.build(self.data_dir, as_of=as_of)

    def bot_config(self) -> BotConfig:
        """The Discord bot's configuration: its group, and the ingest limits it applies."""
        return self.discord.build(
            chunk_limits=self.chunks.build(),
            fetch_policy=self.fetch.build(),
            poll_limits=self.feeds.build(),
            feed_default_every=self.feeds.default_every,
        )


def settings_fields(
    model: type[BaseModel] = Settings, place: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], str, FieldInfo]]:
    """Each setting: its place in the groups (("index", "chroma", "port")), its environment
    name without the prefix ("chroma_port"), and its field; in the groups' order."""
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, Group):
            yield from settings_fields(field.annotation, (*place, name))
        else:
            yield (*place, name), field.alias or name, field


class _FlatNames(PydanticBaseSettingsSource):
    """The variables one source read (the environment, or `.env`), placed in the groups by each
    setting's flat name: NEWSBOT_CHROMA_PORT → {"index": {"chroma": {"port": "8001"}}}."""

    def __init__(self, settings_cls: type[BaseSettings], source: EnvSettingsSource):
        super().__init__(settings_cls)
        self.prefix = source.env_prefix.lower()
        self.variables: Mapping[str, str | None] = source.env_vars

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ reads every field at once

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for place, name, _ in settings_fields(self.settings_cls):
            value = self.variables.get(f"{self.prefix}{name}")
            if value is None:
                continue
            *groups, leaf = place
            target = found
            for group in groups:
                target = target.setdefault(group, {})
            target[leaf] = value
        return found


def settings_error(error: ValidationError) -> str:
    """What is wrong, one line per bad setting, each named as it is set (NEWSBOT_TOP_K)."""
    names: dict[tuple[str, ...], str] = {}
    secret = set()
    for place, name, field in settings_fields():
        names[place] = names[(*place[:-1], name)] = name  # read by field name or by alias
        if "SecretStr" in repr(field.annotation):
            secret.add(name)
    lines = []
    for problem in error.errors(include_url=False):
        place = tuple(str(part) for part in problem["loc"])
        known = names.get(place)
        where = f"NEWSBOT_{known.upper()}" if known else ".".join(place) or "settings"
        if problem["type"] == "value_error":  # our own validators say what they got
            lines.append(f"{where}: {problem['ctx']['error']}")
            continue
        got = problem["input"]
        told = f" (got {got!r})" if isinstance(got, str) and known not in secret else ""
        lines.append(f"{where}: {problem['msg']}{told}")
    return "\n".join(lines)


def env_example() -> str:
    """Return the text of .env.example: every setting, its meaning and its default."""
    lines = [
        "# newsbot settings. Copy to .env and uncomment what you change; the environment wins "
        "over .env.",
        "# Every setting has the prefix NEWSBOT_ and the default shown.",
        "# Regenerate this file with: python -m bot.settings > .env.example",
        "",
    ]
    heading = None
    for place, name, field in settings_fields():
        group: Any = Settings
        for step in place[:-1]:
            group = group.model_fields[step].annotation
        title = group.title if issubclass(group, Group) else "General"
        if title != heading:
            lines += [f"# ==== {title} ====", ""]
            heading = title
        lines += [f"# {field.description}", f"# NEWSBOT_{name.upper()}={shown(field)}", ""]
    return "\n".join(lines)


def shown(field: FieldInfo) -> str:
    """A field's default as it is written in .env (booleans lowercase, None blank)."""
    default = field.get_default(call_default_factory=True)
    kind: Any = (
        Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
    )
    written = TypeAdapter(kind).dump_python(default)
    if written is None:
        return ""
    return str(written).lower() if isinstance(written, bool) else str(written)


if __name__ == "__main__":  # pragma: no cover
    print(env_example(), end="")
