"""Settings come from FIELDOPS_* variables; bad values stop start-up with the variable named."""

from __future__ import annotations

import pytest

from fieldops.settings import load_settings


def test_defaults_are_the_embedded_mode(tmp_path: object) -> None:
    settings = load_settings({})
    assert settings.is_embedded_db
    assert settings.mqtt_url == ""
    assert settings.resolved_database_url().endswith(".fieldops/fieldops.db")


def test_environment_overrides() -> None:
    settings = load_settings(
        {"FIELDOPS_PORT": "9000", "FIELDOPS_DATABASE_URL": "postgresql+psycopg://x@h/db"}
    )
    assert settings.port == 9000
    assert not settings.is_embedded_db


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"FIELDOPS_PORT": "eighty"}, "FIELDOPS_PORT"),
        ({"FIELDOPS_PORT": "70000"}, "FIELDOPS_PORT"),
        ({"FIELDOPS_LOG_FORMAT": "xml"}, "FIELDOPS_LOG_FORMAT"),
        ({"FIELDOPS_SECRET_KEY": "short"}, "FIELDOPS_SECRET_KEY"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SystemExit, match=named):
        load_settings(env)
