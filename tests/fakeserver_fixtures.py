"""Pytest fixtures for the fake OpenAI server; tests/conftest.py pulls them in.

- ``fake_server``: one server subprocess for the whole session (a FakeOpenAIServer).
- ``openai_server``: the same server, reset (default scenario, no named scenarios,
  empty log, fault counters cleared) before the test that asks for it.
"""

from __future__ import annotations

import pytest

from promptbench.testing.fakeclient import FakeOpenAIServer


@pytest.fixture(scope="session")
def fake_server():
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def openai_server(fake_server: FakeOpenAIServer) -> FakeOpenAIServer:
    if not fake_server.running:  # a test killed it: bring a fresh one up on a new port
        fake_server.stop()
        fake_server.start()
    fake_server.reset()
    return fake_server
