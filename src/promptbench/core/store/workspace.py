"""Creating workspaces: ``git init`` a folder, the sample workspace a new user opens first,
and the commit identity offered to someone git knows no name for."""

from __future__ import annotations

import os
import shutil
from importlib import resources
from pathlib import Path

from promptbench.core.errors import WorkspaceError
from promptbench.core.store.gitrepo import git_env, run_git
from promptbench.core.store.private_dir import PRIVATE_DIR
from promptbench.core.store.promptstore import SETTINGS_FILE, PromptStore

DEFAULT_SETTINGS = """\
# promptbench workspace settings. Committed with the prompts: never put a key here.
# Keys come from environment variables (api_key_env) or the OS keyring (keyring).

[local]
# "parallel" runs local models at the same time (they share the CPU);
# "sequential" runs them one at a time so their timings stay comparable.
mode = "sequential"

[compare]
default_models = ["local/smollm2-135m-instruct", "local/gemma3-270m"]

[eval]
# `promptbench eval`: judge_model judges EVERY LLM evaluator (llm: and uses: github/...),
# overriding each evaluator's own modelId, so the sample prompts evaluate offline on the
# embedded local model. To use each evaluator's modelId instead (and openai/gpt-4o for
# the github/ built-ins), delete this line or comment it out; `--judge MODEL` overrides
# it for one run.
judge_model = "local/smollm2-135m-instruct"
# embedding_model = "openai/text-embedding-3-small"  # similarity evaluators (default: local/all-minilm-l6-v2, offline)
# concurrency = 4  # cells of an eval in flight at once
"""

GITIGNORE_LINE = f"{PRIVATE_DIR}/"
_FALLBACK_IDENTITY = {"GIT_AUTHOR_NAME": "promptbench", "GIT_AUTHOR_EMAIL": "promptbench@localhost",
                      "GIT_COMMITTER_NAME": "promptbench", "GIT_COMMITTER_EMAIL": "promptbench@localhost"}


def sample_prompts_dir() -> Path:
    """The sample prompts: packaged in a wheel, or ``prompts/`` of a source checkout."""
    packaged = resources.files("promptbench") / "_samples"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[4] / "prompts"
    if checkout.is_dir():
        return checkout
    raise WorkspaceError("the sample prompts are missing from this installation; reinstall promptbench")


def default_workspace_dir() -> Path:
    return Path(os.environ.get("PROMPTBENCH_WORKSPACE") or Path.home() / "promptbench-workspace")


def is_repository(folder: Path) -> bool:
    """Whether ``folder`` is inside a git repository (a workspace can be opened there as it is)."""
    return run_git(Path(folder), "rev-parse", "--git-dir", check=False).returncode == 0


def init_workspace(root: Path, *, samples: bool = False) -> PromptStore:
    """Make ``root`` a promptbench workspace: a git repo with settings and an ignored private dir.

    An existing repository is kept as it is; only missing settings are added.
    """
    root = Path(root).absolute()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkspaceError(f"{root}: cannot create the workspace folder: {exc.strerror}") from None
    if not os.access(root, os.W_OK):
        raise WorkspaceError(f"{root}: folder is not writable; choose another folder")
    if not is_repository(root):
        run_git(root, "init", "--quiet", "--initial-branch=main", what=str(root))
    added: list[str] = []
    gitignore = root / ".gitignore"
    lines = gitignore.read_text().splitlines() if gitignore.exists() else []
    if GITIGNORE_LINE not in lines and PRIVATE_DIR not in lines:
        with gitignore.open("a") as handle:
            if lines and lines[-1] != "":
                handle.write("\n")
            handle.write(GITIGNORE_LINE + "\n")
        added.append(".gitignore")
    settings = root / SETTINGS_FILE
    if not settings.exists():
        settings.write_text(DEFAULT_SETTINGS)
        added.append(SETTINGS_FILE)
    if samples:
        for file in sorted(sample_prompts_dir().glob("*.prompt.y*ml")):
            target = root / file.name
            if not target.exists():
                shutil.copyfile(file, target)
                added.append(file.name)
    if added:
        _commit_initial(root, added, "Set up promptbench workspace" + (" with sample prompts" if samples else ""))
    return PromptStore(root)


def _commit_initial(root: Path, paths: list[str], message: str) -> None:
    # A new user may not have configured git yet; the sample workspace must still open.
    # Only this one set-up commit falls back to a neutral identity.
    has_identity = bool(run_git(root, "config", "user.email", check=False).stdout.strip())
    env = git_env(None if has_identity else _FALLBACK_IDENTITY)
    run_git(root, "add", "--", *paths, env=env, what=str(root))
    run_git(root, "commit", "--quiet", "--no-verify", "-m", message, "--", *paths, env=env, what=str(root))


def user_workspace_dir() -> Path:
    """Where runs of files outside any workspace go: ``$XDG_DATA_HOME/promptbench``
    (``~/.local/share/promptbench`` when unset; a relative XDG path is ignored, as the spec says)."""
    base = os.environ.get("XDG_DATA_HOME", "")
    return (Path(base) if os.path.isabs(base) else Path.home() / ".local" / "share") / "promptbench"


def ensure_user_workspace() -> PromptStore:
    """The per-user workspace, made on first use: a git repository of its own with no prompts,
    whose private folder holds the run database. No settings are written (defaults apply, so
    judges are the files' own modelIds, as in GitHub); a promptbench.toml put there is read."""
    root = user_workspace_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkspaceError(f"{root}: cannot create the per-user workspace: {exc.strerror}; set XDG_DATA_HOME "
                             "to a writable folder, or give --workspace DIR") from None
    if not (root / ".git").exists():
        run_git(root, "init", "--quiet", "--initial-branch=main", what=str(root))
    return PromptStore(root)


def open_workspace(root: Path, *, explicit: bool) -> tuple[PromptStore, bool]:
    """The workspace at ``root``; when ``root`` was not ``explicit`` (the current directory) and is
    no git repository, the per-user workspace instead. Returns (store, fell back)."""
    if not explicit and Path(root).is_dir() and not is_repository(root):
        return ensure_user_workspace(), True
    return PromptStore(root), False


def ensure_sample_workspace(root: Path | None = None) -> PromptStore:
    """The workspace a first start opens: the samples copied to a git repo in the home folder."""
    root = root or default_workspace_dir()
    if (root / SETTINGS_FILE).exists():
        return PromptStore(root)
    return init_workspace(root, samples=True)


def suggested_identity() -> tuple[str, str]:
    """A name and email to offer when git has none: the system user's full name (or login)
    and login@host. Only a suggestion: the person confirms or edits it."""
    import getpass
    import socket

    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = ""
    name = ""
    try:
        import pwd

        name = pwd.getpwnam(login).pw_gecos.split(",")[0].strip() if login else ""
    except (ImportError, KeyError):
        pass
    host = socket.gethostname() or "localhost"
    return name or login, f"{login}@{host}" if login else ""
