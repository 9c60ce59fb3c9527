"""The README's two commands are the ones CI runs, and the documentation's examples are ones a
reader may copy: every identity code is a valid code from the test range (individual number
900-999) and fits the person it is given to."""

from __future__ import annotations

import json
import re
from pathlib import Path

from app.patients.hetu import Hetu, parse_hetu

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = ("README.md", "CONTRIBUTING.md", "BENCHMARKS.md", "deploy/README.md")
# The given names the examples use, with the sex of those who bear them: the identity code's
# individual number gives the sex (odd for a man), so the name must agree with it.
EXAMPLE_NAMES = {"Ilmari": "male", "Aino": "female"}


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


def pre_reform_sex(hetu: Hetu) -> str:
    """The sex an identity code issued before the reform tells (odd for a man): the examples'
    codes are such, and their names should not contradict them."""
    return "male" if hetu.individual_number % 2 else "female"


def test_the_documentation_registers_people_with_test_codes_that_fit_them() -> None:
    examples = 0
    for document in DOCUMENTS:
        text = (ROOT / document).read_text()
        for found in re.finditer(r'"hetu": "([^"]*)"', text):
            hetu = parse_hetu(found.group(1))
            assert hetu.is_temporary, f"{document}: not a code from the test range"
            name = re.match(r', "given_name": "([^"]*)"', text[found.end() :])
            assert name, f"{document}: an example without a given name after the code"
            assert EXAMPLE_NAMES[name.group(1)] == pre_reform_sex(hetu), f"{document}"
            examples += 1
    assert examples >= 1


def test_the_golden_patients_have_test_codes_that_fit_them() -> None:
    patients = sorted((ROOT / "fhir_mappings" / "examples").glob("Patient-*.json"))
    assert patients
    for path in patients:
        patient = json.loads(path.read_text())
        (code,) = [i["value"] for i in patient["identifier"] if i["system"] == "urn:oid:1.2.246.21"]
        hetu = parse_hetu(code)
        assert hetu.is_temporary, path.name
        sex = pre_reform_sex(hetu)
        assert (patient["gender"], patient["birthDate"]) == (sex, hetu.birth_date.isoformat())
        assert {EXAMPLE_NAMES[given] for name in patient["name"] for given in name["given"]} == {
            sex
        }
