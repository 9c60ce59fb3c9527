"""What the benchmarks that drive Askel over HTTP share (not a benchmark): `askel serve`
processes on a database, and the API's answers read the one way they all read them.

The scripts import it as a sibling (`python bench/x.py` puts `bench/` first on the path); the
tests' fixtures, which run with the project root on the path, take their free ports from here.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx2 as httpx

ASKEL = str(Path(sys.executable).parent / "askel")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(url: str, count: int, directory: Path) -> Iterator[list[str]]:
    """`count` `askel serve` processes on the migrated database at `url`, run in `directory`
    and sharing its development key, each ready; their base URLs. Rate limits are off: one
    demo user stands for many here."""
    with ExitStack() as stack:
        bases = []
        for _ in range(count):
            port = free_port()
            env = {**os.environ, "ASKEL_DATABASE_URL": url, "ASKEL_SEED_DEMO_DATA": "false",
                   "ASKEL_MIGRATE_ON_START": "false", "ASKEL_LOG_LEVEL": "WARNING",
                   "ASKEL_RATE_LIMITS_ENABLED": "false",
                   "ASKEL_DEV_ISSUER_KEY_FILE": str(directory / "dev-issuer.jwk"),
                   "ASKEL_DEV_ISSUER_URL": "http://askel-bench/dev"}  # fmt: skip
            process = subprocess.Popen(
                [ASKEL, "serve", "--port", str(port)],
                env=env, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            stack.callback(process.wait, 30)
            stack.callback(process.terminate)
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while not _ready(base):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"askel serve on {url} did not become ready")
                time.sleep(0.1)
            bases.append(base)
        yield bases


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz").status_code == 200
    except httpx.TransportError:
        return False
