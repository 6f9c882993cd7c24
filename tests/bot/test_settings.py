"""Settings come from the environment and .env, and every one is documented."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.discord.config import BotConfig
from bot.settings import Settings, env_example, settings_error
from ingest.chunk import ChunkLimits
from ingest.feeds import PollLimits
from ingest.fetch import FetchPolicy
from ingest.syndication import Syndication
from retrieval import ChatModelConfig, ChromaLocation, ExtractiveConfig, IndexConfig
from tests.conftest import ROOT

MB = 1024 * 1024

# Every NEWSBOT_ name the settings had when they were flat, a value other than its default, and
# where that value arrives in what the front ends are handed. Extra variables a row needs come
# after the value (the chat model's settings apply once a model is named).
Row = tuple[dict[str, str], Callable[[Settings], object], object]
EVERY_SETTING: list[Row] = [
    ({"DATA_DIR": "/srv/news"}, lambda s: s.index_config().data_dir, Path("/srv/news")),
    ({"DATA_DIR": "/srv/news"}, lambda s: s.index_config().chroma.path, Path("/srv/news/chroma")),
    ({"CHROMA_PATH": "/srv/db"}, lambda s: s.index_config().chroma.path, Path("/srv/db")),
    (
        {"CHROMA_HOST": "db.local"},
        lambda s: s.index_config().chroma,
        ChromaLocation(path=None, host="db.local"),
    ),
    ({"CHROMA_PORT": "8123"}, lambda s: s.index_config().chroma.port, 8123),
    ({"CHROMA_SSL": "true"}, lambda s: s.index_config().chroma.ssl, True),
    ({"CHROMA_CONNECT_TIMEOUT": "2.5"}, lambda s: s.index_config().chroma.connect_timeout, 2.5),
    ({"CHROMA_TIMEOUT": "12"}, lambda s: s.index_config().chroma.request_timeout, 12.0),
    ({"CHROMA_COLLECTION": "wire"}, lambda s: s.index_config().collection, "wire"),
    ({"EMBEDDING_MODEL": "/m/e5"}, lambda s: s.index_config().embedding_model, "/m/e5"),
    ({"EMBEDDING_DEVICE": "cuda"}, lambda s: s.index_config().device, "cuda"),
    (
        {"EMBEDDING_PRECISION": "bfloat16"},
        lambda s: s.index_config().embedding_precision,
        "bfloat16",
    ),
    ({"EMBEDDING_RUNTIME": "torch"}, lambda s: s.index_config().embedding_runtime, "torch"),
    (
        {"EMBEDDING_QUESTION_PRECISION": "float32"},
        lambda s: s.index_config().embedding_question_precision,
        "float32",
    ),
    ({"MODEL_CACHE_DIR": "/m"}, lambda s: s.index_config().model_cache_dir, Path("/m")),
    ({"EMBEDDING_BATCH_SIZE": "4"}, lambda s: s.index_config().embedding_batch_size, 4),
    ({"CHUNK_MAX_TOKENS": "200"}, lambda s: s.chunks.build().max_tokens, 200),
    ({"CHUNK_TARGET_TOKENS": "100"}, lambda s: s.chunks.build().target_tokens, 100),
    ({"CHUNK_CONTEXT_TOKENS": "0"}, lambda s: s.chunks.build().context_tokens, 0),
    ({"MAX_PASSAGES": "20"}, lambda s: s.bot_config().chunk_limits.max_passages, 20),
    ({"TOP_K": "9"}, lambda s: s.index_config().top_k, 9),
    ({"SEARCH_CANDIDATES": "80"}, lambda s: s.index_config().candidates, 80),
    ({"ANSWER_MAX_SENTENCES": "2"}, lambda s: s.index_config().extractive.max_sentences, 2),
    ({"ANSWER_MIN_RELEVANCE": "0.5"}, lambda s: s.index_config().extractive.min_relevance, 0.5),
    ({"DEDUP_THRESHOLD": "0.9"}, lambda s: s.copies.build(), Syndication(0.9)),
    (
        {"LLM": "ollama:llama3.1"},
        lambda s: s.index_config().chat,
        ChatModelConfig(model="ollama:llama3.1"),
    ),
    ({"LLM_BASE_URL": "http://llm/v1", "LLM": "m"}, lambda s: _chat(s).base_url, "http://llm/v1"),
    ({"LLM_API_KEY": "sk-1", "LLM": "m"}, lambda s: _chat(s).api_key, "sk-1"),
    ({"LLM_TEMPERATURE": "0.7", "LLM": "m"}, lambda s: _chat(s).temperature, 0.7),
    ({"LLM_TIMEOUT": "90", "LLM": "m"}, lambda s: _chat(s).timeout, 90.0),
    ({"LLM_MAX_TOKENS": "300", "LLM": "m"}, lambda s: _chat(s).max_tokens, 300),
    ({"LLM_MAX_RETRIES": "0", "LLM": "m"}, lambda s: _chat(s).max_retries, 0),
    ({"DISCORD_TOKEN": "t0k"}, lambda s: _secret(s.discord.token), "t0k"),
    ({"DISCORD_GUILD_ID": "42"}, lambda s: s.bot_config().guild_id, 42),
    ({"DISCORD_API_BASE": "http://d/api"}, lambda s: s.discord.api_base, "http://d/api"),
    ({"DISCORD_GATEWAY_URL": "ws://d/gw"}, lambda s: s.discord.gateway_url, "ws://d/gw"),
    (
        {"DISCORD_ADMIN_ROLE_IDS": "1, 2"},
        lambda s: s.bot_config().admin_role_ids,
        frozenset({1, 2}),
    ),
    ({"DISCORD_ADMIN_USER_IDS": "3"}, lambda s: s.bot_config().admin_user_ids, frozenset({3})),
    ({"DISCORD_CHANNEL_IDS": "4,5"}, lambda s: s.bot_config().channel_ids, frozenset({4, 5})),
    ({"DISCORD_COOLDOWN_SECONDS": "0"}, lambda s: s.bot_config().cooldown_seconds, 0.0),
    ({"DISCORD_MAX_CONCURRENT": "2"}, lambda s: s.bot_config().max_concurrent, 2),
    ({"DISCORD_MAX_UPLOAD_MB": "1.5"}, lambda s: s.bot_config().max_upload_bytes, int(1.5 * MB)),
    ({"FETCH_ALLOW_LOOPBACK": "true"}, lambda s: s.fetch.build().allow_loopback, True),
    ({"FETCH_TIMEOUT": "7"}, lambda s: s.bot_config().fetch_policy, FetchPolicy(total_timeout=7)),
    ({"FETCH_MAX_MB": "2"}, lambda s: s.fetch.build().max_bytes, 2 * MB),
    ({"FETCH_MAX_REDIRECTS": "0"}, lambda s: s.fetch.build().max_redirects, 0),
    (
        {"OUTLET_NAMES": "Reuters.com=Reuters, bbc.co.uk = BBC"},
        lambda s: s.fetch.build().outlet_names,
        (("reuters.com", "Reuters"), ("bbc.co.uk", "BBC")),
    ),
    ({"FEED_DEFAULT_EVERY": "2h"}, lambda s: s.bot_config().feed_default_every, "2h"),
    ({"FEED_DEFAULT_EVERY": "2h"}, lambda s: s.feeds.default_every, "2h"),
    ({"FOLLOW_MAX_PER_USER": "3"}, lambda s: s.follow_max_per_user, 3),
    ({"FEED_POLL_BUDGET": "30"}, lambda s: s.bot_config().poll_limits, PollLimits(30.0)),
    ({"FEED_MAX_NEW_ENTRIES": "5"}, lambda s: s.feeds.build().max_new_entries, 5),
    ({"FEED_CHECK_SECONDS": "15"}, lambda s: s.bot_config().feed_check_seconds, 15.0),
    ({"DISCORD_ANNOUNCE_CHANNEL_ID": "6"}, lambda s: s.bot_config().announce_channel_id, 6),
    ({"BRIEF_AT": "07:15"}, lambda s: s.bot_config().brief_at, time(7, 15, tzinfo=ZoneInfo("UTC"))),
    (
        {"BRIEF_TIMEZONE": "Asia/Tokyo", "BRIEF_AT": "07:15"},
        lambda s: s.bot_config().brief_at,
        time(7, 15, tzinfo=ZoneInfo("Asia/Tokyo")),
    ),
    ({"MAX_FILE_MB": "0.5"}, lambda s: s.max_file_bytes, MB // 2),
    ({"LOG_LEVEL": "DEBUG"}, lambda s: s.log_level, "DEBUG"),
]


def _chat(settings: Settings) -> ChatModelConfig:
    chat = settings.index_config().chat
    assert chat is not None
    return chat


def _secret(value: object) -> object:
    return getattr(value, "get_secret_value", lambda: value)()


def _unset_newsbot(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATA_DIR", "MODEL_CACHE_DIR"):  # set by the suite's isolation
        monkeypatch.delenv(f"NEWSBOT_{name}")


def test_every_setting_is_listed_in_env_example_with_its_default() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert example == env_example(), "regenerate: python -m bot.settings > .env.example"

    blocks = re.findall(r"^# (.+)\n# NEWSBOT_([A-Z_]+)=(.*)$", example, re.MULTILINE)
    assert len(blocks) == len({name for _, name, _ in blocks}) == 56
    assert all(meaning.strip() for meaning, _, _ in blocks)
    defaults = {name: default for _, name, default in blocks}
    assert defaults["CHROMA_PORT"] == "8000"
    assert defaults["CHROMA_SSL"] == "false"
    assert defaults["FETCH_MAX_MB"] == "5.0"
    assert defaults["DISCORD_ADMIN_ROLE_IDS"] == defaults["LLM"] == ""


@pytest.mark.parametrize(
    ("variables", "where", "expected"),
    EVERY_SETTING,
    ids=[next(iter(variables)) for variables, _, _ in EVERY_SETTING],
)
@pytest.mark.parametrize("source", ["environment", ".env"])
def test_each_setting_arrives_where_its_name_says(
    variables: dict[str, str],
    where: Callable[[Settings], object],
    expected: object,
    *,
    source: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _unset_newsbot(monkeypatch)
    if source == ".env":
        lines = [f"NEWSBOT_{name}={value}" for name, value in variables.items()]
        (tmp_path / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        for name, value in variables.items():
            monkeypatch.setenv(f"NEWSBOT_{name}", value)

    assert where(Settings()) == expected


def test_the_table_above_covers_every_setting() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    names = set(re.findall(r"^# NEWSBOT_([A-Z_]+)=", example, re.MULTILINE))
    assert names == {next(iter(variables)) for variables, _, _ in EVERY_SETTING}


def test_unset_settings_build_the_libraries_own_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    _unset_newsbot(monkeypatch)
    settings = Settings()

    assert settings.index_config() == IndexConfig(
        data_dir=Path("data"), chroma=ChromaLocation(path=Path("data/chroma"))
    )
    assert settings.index_config().extractive == ExtractiveConfig()
    assert settings.chunks.build() == ChunkLimits()
    assert settings.copies.build() == Syndication()
    assert settings.fetch.build() == FetchPolicy()
    assert settings.feeds.build() == PollLimits()
    assert settings.bot_config() == BotConfig(fetch_policy=FetchPolicy(), poll_limits=PollLimits())


def test_env_file_and_environment_are_read_the_environment_winning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("NEWSBOT_TOP_K=9\nNEWSBOT_CHROMA_HOST=db.local\n")
    monkeypatch.setenv("NEWSBOT_TOP_K", "3")
    monkeypatch.setenv("NEWSBOT_CHROMA_PORT", "8001")

    config = Settings().index_config()

    assert config.top_k == 3
    assert config.chroma == ChromaLocation(host="db.local", port=8001)


def test_a_lowered_chunk_size_lowers_the_merge_target_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSBOT_CHUNK_MAX_TOKENS", "128")

    assert Settings().chunks.build() == ChunkLimits(max_tokens=128, target_tokens=128)


def test_a_malformed_setting_is_a_clear_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_DISCORD_ADMIN_ROLE_IDS", "123, admins")
    with pytest.raises(ValidationError, match="comma-separated numeric ids"):
        Settings()
    monkeypatch.setenv("NEWSBOT_DISCORD_ADMIN_ROLE_IDS", "123, 456")

    monkeypatch.setenv("NEWSBOT_EMBEDDING_RUNTIME", "tensorrt")
    with pytest.raises(ValidationError, match="'auto', 'torch' or 'onnx'"):
        Settings()
    monkeypatch.setenv("NEWSBOT_EMBEDDING_RUNTIME", "onnx")

    monkeypatch.setenv("NEWSBOT_OUTLET_NAMES", "reuters.com")
    with pytest.raises(ValidationError, match="host=Name pairs"):
        Settings()


def test_a_bad_setting_is_named_as_it_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_CHROMA_PORT", "abc")
    monkeypatch.setenv("NEWSBOT_BRIEF_AT", "8am")
    with pytest.raises(ValidationError) as caught:
        Settings()

    assert settings_error(caught.value).splitlines() == [
        "NEWSBOT_CHROMA_PORT: Input should be a valid integer, unable to parse string as an "
        "integer (got 'abc')",
        "NEWSBOT_BRIEF_AT: expected a time of day like 08:00 (24-hour HH:MM), got '8am'",
    ]


def test_eval_and_the_benchmarks_index_in_their_own_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_CHROMA_HOST", "db.local")
    monkeypatch.setenv("NEWSBOT_CHROMA_PATH", "/srv/db")
    monkeypatch.setenv("NEWSBOT_LLM", "ollama:llama3.1")
    monkeypatch.setenv("NEWSBOT_TOP_K", "9")

    settings = Settings().embedded_in(Path("/tmp/eval"))

    config = settings.index_config()
    assert (config.data_dir, config.chroma) == (
        Path("/tmp/eval"),
        ChromaLocation(Path("/tmp/eval/chroma")),
    )
    assert config.top_k == 9 and config.chat is not None  # the rest is the user's
    assert settings.without_chat().index_config().chat is None
