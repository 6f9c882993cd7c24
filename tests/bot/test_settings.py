"""Settings come from the environment and .env, and every one is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, env_example
from tests.conftest import ROOT


def test_every_setting_is_listed_in_env_example_with_its_default() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert example == env_example(), "regenerate: python -m bot.settings > .env.example"

    for name, field in Settings.model_fields.items():
        default = "" if field.default is None else field.default
        if isinstance(default, bool):
            default = str(default).lower()
        assert f"# NEWSBOT_{name.upper()}={default}\n" in example, name
        assert field.description, f"{name} has no description"


def test_env_file_and_environment_are_read_the_environment_winning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("NEWSBOT_TOP_K=9\nNEWSBOT_CHROMA_HOST=db.local\n")
    monkeypatch.setenv("NEWSBOT_TOP_K", "3")

    settings = Settings()

    assert settings.top_k == 3
    assert settings.chroma_host == "db.local"
    assert settings.chroma_dir == tmp_path / "data" / "chroma"


def test_a_malformed_id_list_is_a_clear_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv("NEWSBOT_DISCORD_ADMIN_ROLE_IDS", "123, admins")

    with pytest.raises(ValidationError, match="comma-separated numeric ids"):
        Settings()
    monkeypatch.setenv("NEWSBOT_DISCORD_ADMIN_ROLE_IDS", "123, 456")
    assert Settings().admin_role_ids == frozenset({123, 456})
