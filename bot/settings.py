"""Every setting, read from the environment and `.env` (prefix NEWSBOT_); see .env.example."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.config import BotConfig
from bot.follows import MAX_PER_USER
from bot.texts import parse_clock
from ingest.chunk import ChunkLimits
from ingest.feeds import PollLimits
from ingest.fetch import FetchPolicy
from ingest.subscriptions import DEFAULT_EVERY
from ingest.syndication import Syndication
from retrieval import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_REQUEST_TIMEOUT,
    ChatModelConfig,
    ExtractiveConfig,
    IndexConfig,
)

MB = 1024 * 1024


class Settings(BaseSettings):
    """newsbot's configuration. Library code receives plain values taken from it."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(
        Path("data"), description="Where the index, the keyword index and other state live."
    )
    chroma_path: Path | None = Field(
        None, description="Directory of the embedded Chroma database (default: DATA_DIR/chroma)."
    )
    chroma_host: str | None = Field(
        None, description="Host of a Chroma server; when set, it is used instead of embedded."
    )
    chroma_port: int = Field(8000, description="Port of the Chroma server.")
    chroma_ssl: bool = Field(False, description="Use https to reach the Chroma server.")
    chroma_connect_timeout: float = Field(
        DEFAULT_CONNECT_TIMEOUT, gt=0, description="Seconds to connect to the Chroma server."
    )
    chroma_timeout: float = Field(
        DEFAULT_REQUEST_TIMEOUT,
        gt=0,
        description="Seconds to wait for the Chroma server to answer before giving up with an "
        "error (a server that stopped or hangs is then reported in one line).",
    )
    chroma_collection: str = Field(
        "newsbot", description="Name prefix of the Chroma collections (3-50 letters, digits, _-)."
    )
    embedding_model: str = Field(
        IndexConfig.embedding_model,
        description="sentence-transformers model; the default is the bundled offline copy.",
    )
    embedding_device: str = Field(
        IndexConfig.device, description="Device for the embedding model (cpu, cuda)."
    )
    embedding_precision: Literal["auto", "float32", "bfloat16", "int8"] = Field(
        "auto",
        description=(
            "Arithmetic of a passage's embedding on the CPU: auto uses bfloat16 where the CPU "
            "has it natively (AMX or AVX512-BF16: ~2x faster, cosine 0.99998 to float32), else "
            "int8 on onnxruntime (the copy questions use: an ingest 1.4-1.9x faster than in "
            "float32; on the MultiHop-RAG dev split, retrieval over all queries within 0.004 of "
            "float32's, no answer figure more than 0.008 lower), else float32; or float32, "
            "bfloat16 or int8. An index keeps what its first passages were embedded in: auto "
            "follows it, and a precision it cannot mix with (int8 against float32/bfloat16) is "
            "an error."
        ),
    )
    embedding_runtime: Literal["auto", "torch", "onnx"] = Field(
        IndexConfig.embedding_runtime,  # type: ignore[arg-type]
        description=(
            "What runs the embedding model on the CPU: auto uses onnxruntime (a copy exported "
            "once into MODEL_CACHE_DIR and checked against torch; a question embeds ~3x "
            "faster, the same vectors) and falls back to torch where the model won't export; "
            "torch; or onnx (an error where it can't run)."
        ),
    )
    embedding_question_precision: Literal["int8", "float32"] = Field(
        IndexConfig.embedding_question_precision,  # type: ignore[arg-type]
        description=(
            "Arithmetic of a question's embedding (its search and its answer's sentences) on "
            "onnxruntime: int8 (a copy with int8 weights, made once beside the float32 one: "
            "~1.5x faster, cosine 0.98-0.99 to float32, retrieval quality unchanged) or "
            "float32. Passages: NEWSBOT_EMBEDDING_PRECISION."
        ),
    )
    model_cache_dir: Path | None = Field(
        None,
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
    chunk_max_tokens: int = Field(
        ChunkLimits.max_tokens,
        ge=16,
        description="Most word-piece tokens in a passage (capped by the model's limit).",
    )
    chunk_target_tokens: int = Field(
        ChunkLimits.target_tokens,
        ge=1,
        description="Short paragraphs are merged into passages of about this size.",
    )
    chunk_context_tokens: int = Field(
        ChunkLimits.context_tokens,
        ge=0,
        description="Tokens of the previous passage embedded with each passage.",
    )
    max_passages: int = Field(
        ChunkLimits.max_passages,
        ge=1,
        description="Most passages embedded per article (the longest MultiHop-RAG article has "
        "145); the rest of a longer text is left out and reported in the ingest summary.",
    )
    top_k: int = Field(
        IndexConfig.top_k, ge=1, le=50, description="Passages retrieved to answer a question."
    )
    search_candidates: int = Field(
        IndexConfig.candidates,
        ge=1,
        description="Candidates taken from each of dense and keyword search before fusion.",
    )
    answer_max_sentences: int = Field(
        ExtractiveConfig.max_sentences,
        ge=1,
        le=20,
        description="Most quoted sentences in an extractive answer.",
    )
    dedup_threshold: float = Field(
        Syndication.threshold,
        gt=0,
        le=1,
        description="Estimated word-shingle similarity above which an incoming article is a "
        "syndicated copy of a stored one: recorded as another publication, not indexed again.",
    )
    answer_min_relevance: float = Field(
        ExtractiveConfig.min_relevance,
        description="Below this relevance (best cosine + half the question-word coverage) the "
        "answer is that the coverage doesn't say; calibrated for the bundled model.",
    )
    llm: str | None = Field(
        None,
        description="Chat model as LangChain's init_chat_model names it (openai:gpt-4o-mini, "
        "anthropic:claude-sonnet-4-5, ollama:llama3.1); empty: the extractive answerer.",
    )
    llm_base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible server (vLLM, llama.cpp, Ollama /v1)."
    )
    llm_api_key: SecretStr | None = Field(
        None,
        description="API key for the chat model; else the provider's own variable "
        "(OPENAI_API_KEY, ANTHROPIC_API_KEY) is used.",
    )
    llm_temperature: float = Field(
        ChatModelConfig.temperature, ge=0, le=2, description="Chat model temperature."
    )
    llm_timeout: float = Field(
        ChatModelConfig.timeout,
        gt=0,
        description="Seconds the chat model may take per answer, retries included.",
    )
    llm_max_tokens: int = Field(
        ChatModelConfig.max_tokens, ge=16, description="Most tokens in a chat model answer."
    )
    llm_max_retries: int = Field(
        ChatModelConfig.max_retries,
        ge=0,
        description="Retries after a failed chat model call (429, 5xx, network).",
    )
    discord_token: SecretStr | None = Field(
        None, description="Bot token from Discord's developer portal; set it to run the bot."
    )
    discord_guild_id: int | None = Field(
        None, description="Sync slash commands to this server only (instant); else globally."
    )
    discord_api_base: str | None = Field(
        None,
        description="REST base of a Discord-compatible server, e.g. http://127.0.0.1:8080/api/v10.",
    )
    discord_gateway_url: str | None = Field(
        None,
        description="Gateway of a Discord-compatible server, e.g. ws://127.0.0.1:8080/gateway.",
    )
    discord_admin_role_ids: str = Field(
        "",
        description="Comma-separated role ids allowed to use admin commands "
        "(besides Manage Server).",
    )
    discord_admin_user_ids: str = Field(
        "", description="Comma-separated user ids allowed to use admin commands."
    )
    discord_channel_ids: str = Field(
        "", description="Comma-separated channel ids where the bot answers; empty: everywhere."
    )
    discord_cooldown_seconds: float = Field(
        BotConfig.cooldown_seconds,
        ge=0,
        description="Seconds a user waits between two questions (0: no limit).",
    )
    discord_max_concurrent: int = Field(
        BotConfig.max_concurrent,
        ge=1,
        description="Questions and ingests worked on at once; the rest wait their turn.",
    )
    discord_max_upload_mb: float = Field(
        BotConfig.max_upload_bytes / MB,
        gt=0,
        description="Largest attachment accepted by /ingest file:.",
    )
    fetch_allow_loopback: bool = Field(
        False,
        description="Allow fetching from 127.0.0.0/8 and ::1 (tests and local use only); "
        "private and link-local addresses stay refused.",
    )
    fetch_timeout: float = Field(
        FetchPolicy.total_timeout, gt=0, description="Seconds a page or feed fetch may take."
    )
    fetch_max_mb: float = Field(
        FetchPolicy.max_bytes / MB, gt=0, description="Largest page or feed fetched."
    )
    fetch_max_redirects: int = Field(
        FetchPolicy.max_redirects, ge=0, description="Redirects followed when fetching."
    )
    outlet_names: str = Field(
        "",
        description="Outlet names for fetched sites, as comma-separated host=Name pairs "
        "(reuters.com=Reuters); other pages keep a claimed site name only when it spells the "
        "site's domain (BBC News on bbc.co.uk), else the outlet is the host.",
    )
    feed_default_every: str = Field(
        DEFAULT_EVERY, description="How often a feed is polled when `feeds add` gives no --every."
    )
    follow_max_per_user: int = Field(
        MAX_PER_USER, ge=1, description="Topics one Discord user may follow at once."
    )
    feed_poll_budget: float = Field(
        PollLimits.budget_seconds,
        gt=0,
        description="Seconds one poll of one feed may take, its pages included; entries not "
        "read in time wait for the next poll.",
    )
    feed_max_new_entries: int = Field(
        PollLimits.max_new_entries,
        ge=1,
        description="New entries read from one feed per poll; the rest wait their turn.",
    )
    feed_check_seconds: float = Field(
        BotConfig.feed_check_seconds,
        gt=0,
        description="How often the Discord bot looks for feeds that are due a poll (seconds).",
    )
    discord_announce_channel_id: int | None = Field(
        None,
        description="Channel that gets a one-line note per feed poll that added articles, and "
        "the daily brief.",
    )
    brief_at: str | None = Field(
        None,
        description="Post the brief of the last 24 hours in the announce channel every day at "
        "this time (HH:MM, 24-hour, in NEWSBOT_BRIEF_TIMEZONE); blank: no daily brief.",
    )
    brief_timezone: str = Field(
        "UTC", description="Time zone of NEWSBOT_BRIEF_AT, an IANA name such as Europe/Berlin."
    )
    max_file_mb: float = Field(20.0, gt=0, description="Files larger than this are refused.")
    log_level: str = Field("WARNING", description="Logging level (DEBUG, INFO, WARNING, ERROR).")

    @field_validator(
        "chroma_host",
        "llm",
        "llm_base_url",
        "llm_api_key",
        "discord_token",
        "discord_guild_id",
        "discord_api_base",
        "discord_gateway_url",
        "discord_announce_channel_id",
        "brief_at",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("discord_admin_role_ids", "discord_admin_user_ids", "discord_channel_ids")
    @classmethod
    def _id_list(cls, value: str) -> str:
        for part in value.replace(" ", "").split(","):
            if part and not part.isdigit():
                raise ValueError(f"expected comma-separated numeric ids, got {part!r}")
        return value

    @field_validator("outlet_names")
    @classmethod
    def _outlet_pairs(cls, value: str) -> str:
        for pair in filter(None, (part.strip() for part in value.split(","))):
            host, _, name = pair.partition("=")
            if not host.strip() or not name.strip() or "/" in host or " " in host.strip():
                raise ValueError(f"expected host=Name pairs, got {pair!r}")
        return value

    @property
    def outlet_map(self) -> tuple[tuple[str, str], ...]:
        """The NEWSBOT_OUTLET_NAMES pairs, hosts lowercased."""
        pairs = (part.partition("=") for part in self.outlet_names.split(",") if part.strip())
        return tuple((host.strip().lower(), name.strip()) for host, _, name in pairs)

    @model_validator(mode="after")
    def _brief_time_is_readable(self) -> Settings:
        if self.brief_at is not None:
            parse_clock(self.brief_at, self.brief_timezone)
        return self

    @property
    def brief_time(self) -> time | None:
        """When the daily brief is posted (a time of day in its zone), or None."""
        return None if self.brief_at is None else parse_clock(self.brief_at, self.brief_timezone)

    @staticmethod
    def _ids(value: str) -> frozenset[int]:
        return frozenset(int(x) for x in value.replace(" ", "").split(",") if x)

    @property
    def admin_role_ids(self) -> frozenset[int]:
        return self._ids(self.discord_admin_role_ids)

    @property
    def admin_user_ids(self) -> frozenset[int]:
        return self._ids(self.discord_admin_user_ids)

    @property
    def channel_ids(self) -> frozenset[int]:
        return self._ids(self.discord_channel_ids)

    @property
    def chroma_dir(self) -> Path:
        return self.chroma_path or self.data_dir / "chroma"

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


def env_example() -> str:
    """Return the text of .env.example: every setting, its meaning and its default."""
    lines = [
        "# newsbot settings. Copy to .env and uncomment what you change; the environment wins "
        "over .env.",
        "# Every setting has the prefix NEWSBOT_ and the default shown.",
        "# Regenerate this file with: python -m bot.settings > .env.example",
        "",
    ]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = (
            ""
            if default is None
            else str(default).lower()
            if isinstance(default, bool)
            else default
        )
        lines += [f"# {field.description}", f"# NEWSBOT_{name.upper()}={shown}", ""]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(env_example(), end="")
