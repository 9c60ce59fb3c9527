from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.fixtures.pages import page_client


@pytest.fixture
def pages(client: TestClient) -> TestClient:
    """The app as a browser without JavaScript sees it."""
    return page_client(client)
