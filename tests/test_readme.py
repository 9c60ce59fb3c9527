"""The README's two commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```(?:sh|bash|shell)\n(.+?)\n```", text)


def readme_walkthrough() -> str:
    """The walk-through after the first command: the first plain code block of "Start it"."""
    section = (ROOT / "README.md").read_text().split("## Start it", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```(\w*)\n(.*?)^```$", section, re.DOTALL | re.MULTILINE)
    return next(str(code) for language, code in blocks if not language)


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    match = re.search(r"^TEST_COMMAND='(.+)'$", ci, re.MULTILINE)
    assert match, ".ci/run must hold TEST_COMMAND"
    assert readme_commands()[1] == match.group(1)


def test_the_first_command_serves() -> None:
    first = readme_commands()[0]
    assert first.endswith("askel serve")
