"""``--var NAME=VALUE``: how values for ``{{NAME}}`` are given on the command line, as gh-models'
tests assert it for ``gh models run`` and ``generate`` (util.ParseTemplateVariables; github/
gh-models at f38cd97), replayed with ``promptbench render --var ... --json`` (``compare`` parses
``--var`` the same way).

Each case is marked ``gh_case`` with the line of its table entry (or t.Run). Where promptbench
disagrees and nothing says it should, the case is an xfail whose reason says exactly how.
"""

from __future__ import annotations

import json

import pytest

from promptbench import cli

UTIL = "pkg/util/util_test.go"
RUN = "cmd/run/run_test.go"
GEN = "cmd/generate/generate_test.go"



def var_case(where: str, line: int, flags: list[str], expected: dict | None, xfail: str | None = None):
    """gh's case at where:line: these --var flags give ``expected``, or an error when None."""
    marks = [pytest.mark.gh_case(f"{where}:{line}")]
    if xfail:
        marks.append(pytest.mark.xfail(strict=True, reason=xfail))
    return pytest.param(flags, expected, marks=marks, id=f"{where.rsplit('/', 1)[-1]}:{line}")


@pytest.mark.parametrize("flags, expected", [
    var_case(UTIL, 18, [], {}),                                                        # empty flags
    var_case(UTIL, 23, ["name=Alice"], {"name": "Alice"}),                             # single variable
    var_case(UTIL, 28, ["name=Alice", "age=30", "city=Boston"],                        # multiple variables
             {"name": "Alice", "age": "30", "city": "Boston"}),
    var_case(UTIL, 33, ["description=Hello World"], {"description": "Hello World"}),   # spaces in value
    var_case(UTIL, 38, ["equation=x=y+1"], {"equation": "x=y+1"}),                     # equals in value
    var_case(UTIL, 43, ["empty="], {"empty": ""}),                                     # empty value
    var_case(UTIL, 48, [" name =Alice"], {"name": "Alice"}),              # whitespace around key
    var_case(UTIL, 53, ["message= Hello World "], {"message": " Hello World "}),       # whitespace kept in value
    var_case(UTIL, 58, ["", "name=Alice"], {"name": "Alice"}),          # empty string flag ignored
    var_case(UTIL, 64, ["   ", "name=Alice"], {"name": "Alice"}),       # whitespace-only flag ignored
    var_case(UTIL, 70, ["name"], None),                                                # missing equals sign
    var_case(UTIL, 75, ["name=Alice", "age"], None),                                   # ... with multiple vars
    var_case(UTIL, 80, ["=value"], None),                                              # empty key
    var_case(UTIL, 85, [" =value"], None),                                  # whitespace-only key
    var_case(UTIL, 90, ["name=Alice", "name=Bob"], None),                   # duplicate keys
    var_case(RUN, 429, [], {}),                                                        # empty vars
    var_case(RUN, 434, ["name=John"], {"name": "John"}),                               # single var
    var_case(RUN, 439, ["name=John", "age=25", "city=New York"],                       # multiple vars
             {"name": "John", "age": "25", "city": "New York"}),
    var_case(RUN, 444, ["full_name=John Smith", "description=A senior developer"],     # multi-word values
             {"full_name": "John Smith", "description": "A senior developer"}),
    var_case(RUN, 449, ["equation=x = y + 2"], {"equation": "x = y + 2"}),             # value with equals sign
    var_case(RUN, 454, ["city=paris, milan", "countries=france, italy, spain"],         # value with commas
             {"city": "paris, milan", "countries": "france, italy, spain"}),
    var_case(RUN, 459, ["", "name=John", "  "], {"name": "John"}),      # empty strings are skipped
    var_case(RUN, 464, ["invalid"], None),                                             # no equals
    var_case(RUN, 469, ["=value"], None),                                              # empty key
    var_case(RUN, 474, ["name=John", "name=Jane"], None),                   # duplicate keys
    var_case(RUN, 479, ["input=test value"], {"input": "test value"}),                 # input is allowed in run
    var_case(GEN, 399, ["name=Bob", "location=Seattle"], {"name": "Bob", "location": "Seattle"}),  # asserted at :415-420
])
def test_var_flags(capsys, workspace, flags, expected):
    # asserted at util_test.go:103-108 and run_test.go:492-497: an error, or exactly these values
    keys = sorted((expected or {}) | {f.partition("=")[0].strip(): "" for f in flags if f.strip()})
    (workspace.root / "vars.prompt.yml").write_text(
        "messages:\n  - role: user\n    content: " + json.dumps("Vars: " + " ".join("{{" + k + "}}" for k in keys if k)) + "\n")
    code = cli.main(["--workspace", str(workspace.root), "render", "vars.prompt.yml", "--json",
                     *[arg for flag in flags for arg in ("--var", flag)]])
    out, err = capsys.readouterr()
    if expected is None:
        assert (code, out) == (2, ""), out
        assert err.startswith("promptbench: error: --var")
    else:
        assert code == 0, err
        rendered = json.loads(out)
        assert rendered["values"] == expected and rendered["unused"] == []
