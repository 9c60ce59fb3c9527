"""The ground floor imports no domain's logic: `app.db`, with every table it maps, loads no
service, repository, router or page, nor the statistics facts and what keeps them current (the
app factory and the command line install that). Domains import `app.db`, so anything it
imported that imports a domain would close a circle."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOGIC = {"service", "repository", "router", "pages", "facts", "follow", "policies", "publisher"}
LOADED = """
import sys
from sqlalchemy import create_engine
import app.db
app.db.Database(create_engine("sqlite://"))
print(" ".join(sorted(name for name in sys.modules if name.startswith("app"))))
"""


def test_the_database_and_its_tables_import_no_domain_logic() -> None:
    # A fresh interpreter: this one has imported everything already.
    loaded = subprocess.run(
        [sys.executable, "-c", LOADED], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert "app.models" in loaded
    assert "app.statistics.models" in loaded
    assert [name for name in loaded if name.rsplit(".", 1)[-1] in LOGIC] == []
