"""`fieldops plan`: optimise a territory's day from the command line, with progress, and commit it."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy.engine import Engine

from fieldops.cli import cli
from tests.world import World


def test_plan_optimises_and_commits(engine: Engine, world: World) -> None:
    url = engine.url.render_as_string(hide_password=False)
    env = {"FIELDOPS_DATABASE_URL": url, "FIELDOPS_SECRET_KEY": "test-secret-key-of-sufficient-length-32b"}
    args = ["plan", "--territory-id", str(world.ids["territory"]), "--day", "2026-11-23", "--seconds", "1"]
    result = CliRunner(env=env).invoke(cli, [*args, "--commit"])
    assert result.exit_code == 0, result.output
    assert "… loaded" in result.output and "… optimising" in result.output
    assert "committed proposal" in result.output
    result = CliRunner(env=env).invoke(cli, ["plan", "--territory-id", "999", "--day", "2026-11-23"])
    assert result.exit_code != 0
    assert "territory 999 does not exist" in result.output


def test_plan_has_help() -> None:
    result = CliRunner().invoke(cli, ["plan", "--help"])
    assert result.exit_code == 0
    assert "--commit" in result.output
