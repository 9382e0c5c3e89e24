"""Real parts for tests and benchmarks: a fake OpenAI-compatible server with faults.

- :mod:`promptbench.testing.fakeserver`: the server (``python -m promptbench.testing.fakeserver``).
- :mod:`promptbench.testing.fakeclient`: ``FakeOpenAIServer`` runs it in a subprocess
  and controls it; ``free_port()`` gives a port where nothing listens.
- :mod:`promptbench.testing.scenario`: ``Scenario``, the fields a test can set.

Kept import-light on purpose: the server process imports only the standard library.
"""
