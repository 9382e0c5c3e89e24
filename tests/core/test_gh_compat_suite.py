"""The GitHub Models compatibility suite: which of gh-models' own test cases it replays, and a
check that none is lost.

The suite is tests/core/test_gh_compat_*.py and tests/core/test_gh_json.py. It replays
**60 test cases** of github/gh-models' tests at f38cd97 (``CASES`` below), each written here
from the rule it asserts (no gh-models file is copied), and checks rules read in gh-models'
code where its tests assert none (``gh_rule``). How they are counted: every table entry and
every t.Run subtest that asserts something is one case, named by the line where it starts; a
t.Run that only loops over a table is not a case of its own. A test marks what it replays
with ``@pytest.mark.gh_case("cmd/eval/eval_test.go:94")``; several tests may replay one case.
Every run that includes the suite ends with a line such as "gh-models compatibility: 60
gh-models test cases replayed (52 passed, 8 xfail: known disagreements), 4 of them deliberate
differences; 38 rules of gh-models code checked; 7 deliberate differences marked in all"
(tests/conftest.py): a deliberate difference is where a test marked ``gh_difference`` asserts
promptbench's documented behaviour instead of gh's; an xfail (strict) is a disagreement
nothing documents, waiting for a fix.

``OUT_OF_SCOPE`` lists the cases of those test files that are not about prompt files,
templating, evaluators, eval results or their JSON, and why.
"""

from __future__ import annotations

import importlib
import re
import subprocess
from pathlib import Path

import pytest

GH_COMMIT = "f38cd97dc0417a116879b5a6dedec0c8753cad4b"
GH_MIRROR = Path("/work/.mirror/github+gh-models/repo")   # a bare clone, where one was fetched
REPLAYED = 60

E, P, RUN, UTIL, GEN = ("cmd/eval/eval_test.go", "pkg/prompt/prompt_test.go", "cmd/run/run_test.go",
                        "pkg/util/util_test.go", "cmd/generate/generate_test.go")
CASES = {  # citation -> the case's name in gh-models
    f"{E}:19": "loads and parses evaluation prompt file",
    f"{E}:62": "templates messages correctly",
    f"{E}:94": "contains match",
    f"{E}:100": "contains no match",
    f"{E}:106": "equals match",
    f"{E}:112": "equals no match",
    f"{E}:118": "starts with match",
    f"{E}:124": "ends with match",
    f"{E}:130": "contains with variable",
    f"{E}:137": "fails with variable not match",
    f"{E}:159": "plugin evaluator works with github/similarity",
    f"{E}:206": "integration test with mock client",
    f"{E}:262": "logs model response when test fails",
    f"{E}:319": "json output format",
    f"{E}:426": "json output vs human-readable output",
    f"{E}:508": "json flag works with failing tests",
    f"{E}:567": "eval with responseFormat and jsonSchema",
    f"{P}:14": "loads and parses prompt file",
    f"{P}:61": "templates messages correctly",
    f"{P}:72": "handles missing template variables",
    f"{P}:82": "handles file not found",
    f"{P}:87": "handles invalid YAML",
    f"{P}:97": "loads prompt file with responseFormat text",
    f"{P}:120": "loads prompt file with responseFormat json_object",
    f"{P}:143": "loads prompt file with responseFormat json_schema and jsonSchema as JSON string",
    f"{P}:209": "validates invalid responseFormat",
    f"{P}:230": "validates json_schema requires jsonSchema",
    f"{P}:251": "BuildChatCompletionOptions includes responseFormat and jsonSchema",
    f"{RUN}:85": "--file pre-loads YAML from file",
    f"{RUN}:153": "--file with {{input}} placeholder is substituted with initial prompt and stdin",
    f"{RUN}:232": "cli flags override params set in the prompt.yaml file",
    f"{RUN}:338": "--file with responseFormat and jsonSchema",
    f"{RUN}:429": "empty vars",
    f"{RUN}:434": "single var",
    f"{RUN}:439": "multiple vars",
    f"{RUN}:444": "multi-word values",
    f"{RUN}:449": "value with equals sign",
    f"{RUN}:454": "value with commas",
    f"{RUN}:459": "empty strings are skipped",
    f"{RUN}:464": "invalid format - no equals",
    f"{RUN}:469": "invalid format - empty key",
    f"{RUN}:474": "duplicate keys",
    f"{RUN}:479": "input variable is allowed in run command",
    f"{UTIL}:18": "empty flags",
    f"{UTIL}:23": "single variable",
    f"{UTIL}:28": "multiple variables",
    f"{UTIL}:33": "variable with spaces in value",
    f"{UTIL}:38": "variable with equals in value",
    f"{UTIL}:43": "variable with empty value",
    f"{UTIL}:48": "variable with whitespace around key",
    f"{UTIL}:53": "preserve whitespace in value",
    f"{UTIL}:58": "empty string flag is ignored",
    f"{UTIL}:64": "whitespace only flag is ignored",
    f"{UTIL}:70": "missing equals sign",
    f"{UTIL}:75": "missing equals sign with multiple vars",
    f"{UTIL}:80": "empty key",
    f"{UTIL}:85": "whitespace only key",
    f"{UTIL}:90": "duplicate keys",
    f"{GEN}:399": "parse template variables in command handler",
    f"{GEN}:423": "runSingleTestWithContext applies template variables",
}
OUT_OF_SCOPE = {  # citation -> (the case's name, why it is not replayed)
    f"{E}:196": ("command creation works", "cobra's command name and help text"),
    f"{RUN}:19": ("NewRunCommand happy path", "gh run MODEL PROMPT: GitHub's model list and a bare prompt, no prompt file"),
    f"{RUN}:65": ("--help prints usage info", "gh run's help text"),
    f"{RUN}:510": ("custom provider skips validation", "model names checked against GitHub's catalog"),
    f"{RUN}:516": ("azureml provider requires validation", "model names checked against GitHub's catalog"),
    f"{RUN}:522": ("invalid model format", "model names checked against GitHub's catalog"),
    f"{RUN}:527": ("nonexistent azureml model", "model names checked against GitHub's catalog"),
    f"{GEN}:510": ("rejects input as template variable", "gh generate reserves {{input}} for its generated tests; "
                                                         "promptbench has no generate command"),
}
# Whole test files of gh-models at f38cd97 that assert nothing about prompt files or evals.
OTHER_FILES = {
    "cmd/generate/cleaner_test.go, parser_test.go, render_test.go, utils_test.go and the rest of "
    "generate_test.go": "gh generate (writing test cases with an LLM), which promptbench does not have",
    "cmd/list/list_test.go, cmd/view/view_test.go, cmd/root_test.go": "GitHub's model catalog and help text",
    "internal/azuremodels/*_test.go, internal/modelkey/modelkey_test.go, internal/sse/event_reader_test.go":
        "GitHub's API client, model keys and SSE reading",
    "integration/integration_test.go": "gh list/run against GitHub's live service",
}


def suite_modules() -> list:
    here = Path(__file__).parent
    names = sorted(p.stem for p in here.glob("test_gh_compat_*.py")) + ["test_gh_json"]
    return [importlib.import_module(f"tests.core.{name}") for name in names]


def _marks(obj) -> list:
    marks = getattr(obj, "pytestmark", [])
    return [getattr(m, "mark", m) for m in (marks if isinstance(marks, list) else [marks])]


def suite_marks() -> list[tuple[str, object]]:
    """(test name, mark) for every mark in the suite: on modules, test functions and their
    parameter sets, read without running anything."""
    found = []
    for module in suite_modules():
        for name, fn in vars(module).items():
            if not (name.startswith("test_") and callable(fn)) or getattr(fn, "__module__", None) != module.__name__:
                continue
            marks = _marks(module) + _marks(fn)
            for mark in list(marks):
                if mark.name == "parametrize":
                    marks += [getattr(m, "mark", m) for value in mark.args[1] for m in getattr(value, "marks", ())]
            found += [(f"{module.__name__.rsplit('.', 1)[-1]}::{name}", mark) for mark in marks]
    return found


def citations(kind: str) -> dict[str, list[str]]:
    """{citation: [test names]} of the ``kind`` markers (gh_case, gh_rule) in the suite."""
    found: dict[str, list[str]] = {}
    for test, mark in suite_marks():
        if mark.name == kind:
            for citation in mark.args:
                found.setdefault(citation, []).append(test)
    return found


def test_the_suite_replays_every_listed_case():
    cases = citations("gh_case")
    assert len(set(cases)) >= REPLAYED == len(CASES)
    assert sorted(set(CASES) - set(cases)) == [], "gh-models cases no test replays any more"
    assert sorted(set(cases) - set(CASES)) == [], "cited cases missing from CASES (a wrong line?)"
    assert not set(CASES) & set(OUT_OF_SCOPE)


def test_differences_and_xfails_say_why():
    marks = [(test, mark) for test, mark in suite_marks() if mark.name in ("gh_difference", "xfail")]
    assert marks
    for test, mark in marks:
        why = mark.args[0] if mark.args else mark.kwargs.get("reason", "")
        assert len(why) > 20 and "\n" not in why, f"{test}: say why in one line"
        if mark.name == "xfail":
            assert mark.kwargs.get("strict") is True, f"{test}: a known disagreement is a strict xfail"


def _gh_file(path: str) -> list[str]:
    proc = subprocess.run(["git", f"--git-dir={GH_MIRROR}", "show", f"{GH_COMMIT}:{path}"],
                          capture_output=True, text=True, check=True)
    return proc.stdout.splitlines()


@pytest.mark.skipif(not GH_MIRROR.is_dir(), reason=f"no clone of github/gh-models at {GH_MIRROR}")
def test_citations_point_at_gh_models_lines():
    files: dict[str, list[str]] = {}

    def line(citation: str) -> str:
        path, number = citation.split(":", 1)
        lines = files.setdefault(path, _gh_file(path)) if path not in files else files[path]
        first = int(number.split("-")[0])
        assert 1 <= first <= len(lines), citation
        return lines[first - 1]

    for citation, name in [*CASES.items(), *((c, n) for c, (n, _) in OUT_OF_SCOPE.items())]:
        text = line(citation).strip()
        assert re.match(r'(t\.Run\(|name:\s+)"' + re.escape(name) + '"', text), (citation, text)
    for citation in citations("gh_rule"):
        assert line(citation).strip(), f"{citation} is a blank line"
