"""Ruleset regular expressions: linear time on RE2, JavaScript's meaning kept, a bounded fallback for lookarounds
and backreferences whose timeouts are findings, never hangs and never silent passes."""

from __future__ import annotations

import pytest

from apiops_pipelines.lint import lint, load_ruleset
from apiops_pipelines.lint import regexes
from apiops_pipelines.lint.jsonpath import Evaluator, compile_path
from apiops_pipelines.lint.regexes import RegexTimeout, js_regex, ruleset_regex

CATASTROPHIC = "^(a+)+$"  # exponential on a backtracking engine: 40 `a`s and a `!` take hours
HOSTILE_VALUE = "a" * 40 + "!"
SLOW_LOOKAHEAD = "^(?=(a|a)*$)"  # needs backtracking, and backtracks exponentially on the value above
SLOW_BACKREFERENCE = "^(a|aa)+\\1$"


def write_ruleset(tmp_path, text: str):
    path = tmp_path / ".spectral.yaml"
    path.write_text(text)
    return load_ruleset(path)


def spec(description: str, summaries: dict[str, str] | None = None) -> dict:
    paths = {path: {"get": {"summary": summary, "responses": {}}} for path, summary in (summaries or {}).items()}
    return {"openapi": "3.0.3", "info": {"title": "t", "version": "1", "description": description}, "paths": paths}


@pytest.mark.timeout(20)
def test_a_nested_quantifier_in_a_pattern_rule_finishes_with_the_right_verdict(tmp_path):
    """`^(a+)+$` against forty `a`s and a `!` hung `apiops lint` on Python's backtracking engine."""
    ruleset = write_ruleset(tmp_path, f"""
rules:
  only-as:
    given: $.info
    then: {{field: description, function: pattern, functionOptions: {{match: "{CATASTROPHIC}"}}}}
  no-as:
    given: $.info
    then: {{field: description, function: pattern, functionOptions: {{notMatch: "{CATASTROPHIC}"}}}}
""")  # fmt: skip
    assert js_regex(CATASTROPHIC).linear
    reported = [(f.rule, f.pointer) for f in lint(spec(HOSTILE_VALUE), ruleset)]
    assert reported == [("only-as", "/info/description")]
    reported = [(f.rule, f.pointer) for f in lint(spec("a" * 40), ruleset)]
    assert reported == [("no-as", "/info/description")]


@pytest.mark.timeout(20)
@pytest.mark.parametrize("given", [
    f"$.paths[*][?(@.summary.match(/{CATASTROPHIC}/))]",
    f"$..[?(@.summary && @.summary.match(/{CATASTROPHIC}/))]",
    f"$.paths[*][?(/{CATASTROPHIC}/.test(@.summary))]",
])  # fmt: skip
def test_a_nested_quantifier_in_a_jsonpath_filter_finishes_with_the_right_verdict(tmp_path, given):
    ruleset = write_ruleset(tmp_path, f"""
rules:
  as-need-ids:
    given: "{given}"
    then: {{field: operationId, function: truthy}}
""")  # fmt: skip
    document = spec("d", {"/hostile": HOSTILE_VALUE, "/fine": "aaaa"})
    assert [f.pointer for f in lint(document, ruleset)] == ["/paths/~1fine/get"]


@pytest.mark.parametrize("pattern, text, expected", [
    ("^(?!.*\\s)", "no-spaces", True),
    ("^(?!.*\\s)", "has space", False),
    ("^(?!.*\\s)", "non\u00a0breaking", False),  # JavaScript's \s has the no-break space
    ("(?<=\\$)\\d+", "costs $12", True),
    ("(?<!x)y", "xy", False),
    ("(a)\\1", "aa", True),
    ("(?<year>\\d{4})-\\k<year>", "2024-2024", True),
    ("(?<year>\\d{4})-\\k<year>", "2024-2025", False),
])  # fmt: skip
def test_lookarounds_and_backreferences_still_work(pattern, text, expected):
    compiled = js_regex(pattern)
    assert not compiled.linear and compiled.search(text) is expected


@pytest.mark.parametrize("pattern, flags, text, expected", [
    ("\\d", "", "\u0663", False),  # ASCII digits, as JavaScript without the u flag
    ("\\w", "", "\u00e9", False),
    ("\\bfoo\\b", "", "\u00e9foo\u00e9", True),
    ("^a\\s+b$", "", "a\u00a0\u2003b", True),
    ("^a\\S$", "", "a\u00a0", False),
    ("[\\s]", "", "\ufeff", True),
    ("^abc$", "", "abc\n", False),  # $ is the end of the text, not before a final newline
    ("^b$", "m", "a\nb\nc", True),
    ("a.c", "", "a\nc", False),
    ("a.c", "", "a\u2028c", False),
    ("a.c", "s", "a\nc", True),
    ("^ABC$", "i", "abc", True),
    ("^\\u0041\\x42$", "", "AB", True),
    ("^\\cJ$", "", "\n", True),
    ("[\\b]", "", "\b", True),
    ("^\\Z\\a$", "", "Za", True),  # letters JavaScript gives no escape meaning are themselves
    ("^[^]$", "", "\n", True),
    ("a[]", "", "a", False),
    ("^x{,3}$", "", "x{,3}", True),  # not a quantifier in JavaScript: a literal brace
    ("^x{2,3}$", "", "xxx", True),
    ("^[[:alpha:]]$", "", "a]", True),  # no POSIX classes: `[` inside a class is a character
    ("^[[:alpha:]]$", "", "b", False),
    ("(?<name>[a-z]+)@", "", "me@example.org", True),
    ("^\\/v\\d+\\/", "", "/v2/pets", True),
    ("^\\p{L}+\\w$", "u", "caf\u00e9s", True),  # a Unicode property with the u flag; \w stays ASCII
    ("^\\p{L}+\\w$", "u", "caf\u00e9\u00e9", False),
    ("^\\p{L}$", "", "p{L}", True),  # without the u flag, \p is a p
    # a property inside a class is Unicode on both engines (the fallback's ASCII flag once bound it)
    ("^[\\p{L}-]+$", "u", "caf\u00e9", True),
    ("^[\\P{L}]+1", "u", "\u00e91", False),
    ("^[\\p{L}\\d]+$", "u", "\u00e93", True),
    ("^[\\p{L}\\d]+$", "u", "\u00e9\u0663", False),  # \d in the class stays ASCII (ARABIC-INDIC THREE)
    ("^[^\\p{L}\\W]+$", "u", "3_", True),
    ("^[^\\p{L}\\W]+$", "u", "\u0663", False),  # \W in the class stays ASCII: a non-ASCII digit is \W
    ("^[\\S]$", "", "\u00a0", False),  # JavaScript's \S inside a class: NBSP is a space
])  # fmt: skip
@pytest.mark.parametrize("engine", ["re2", "backtracking"])
def test_javascript_meaning_is_kept_on_both_engines(pattern, flags, text, expected, engine):
    source = pattern if engine == "re2" else "(?=)" + pattern  # an empty lookahead sends it to the fallback
    compiled = js_regex(source, flags)
    assert compiled.linear is (engine == "re2")
    assert compiled.search(text) is expected


def test_a_property_in_a_class_matches_unicode_on_the_backtracking_engine():
    """The fallback compiled `[\\p{L}-]` under ASCII: 'café' failed and `[\\P{L}]` took 'é' for a non-letter."""
    assert js_regex(r"^[\p{L}-]+$(?<!-)", "u").search("caf\u00e9")
    assert not js_regex(r"^[\P{L}]+(?=1)", "u").search("\u00e91")


def test_a_property_re2_cannot_read_runs_on_the_fallback_unrestricted_by_ascii():
    compiled = js_regex("^\\p{Script=Greek}+$", "u")
    assert not compiled.linear and compiled.search("\u03b1\u03b2") and not compiled.search("ab")


def test_slashed_patterns_carry_their_flags():
    assert ruleset_regex("/^basic$/i").search("BASIC")
    assert not ruleset_regex("^basic$").search("BASIC")
    assert ruleset_regex("/^a.b$/s").search("a\nb")


@pytest.mark.parametrize("pattern, complaint", [("(a", "/(a/"), ("[a", "missing ]"), ("a**", "/a**/")])
def test_an_unreadable_pattern_is_a_value_error_naming_it(pattern, complaint):
    with pytest.raises(ValueError, match="invalid regular expression") as error:
        js_regex(pattern)
    assert complaint in str(error.value)


def test_an_unknown_flag_is_refused():
    with pytest.raises(ValueError, match="unknown regular expression flag 'v'"):
        js_regex("a", "v")


def test_patterns_re2_refuses_print_nothing(capfd):
    """RE2 logs every pattern it cannot compile to stderr unless told not to: noise in every lint run."""
    js_regex("(?=x)quiet-" + "lookahead")
    assert capfd.readouterr().err == ""


@pytest.mark.timeout(30)
@pytest.mark.parametrize("slow", [SLOW_LOOKAHEAD, SLOW_BACKREFERENCE])
def test_a_pathological_backtracking_pattern_is_a_located_finding_not_a_hang(tmp_path, slow):
    """A lookaround or a backreference keeps the backtracking engine: past its time limit the value is a
    finding that says so, even where the rule's own message would claim a verdict."""
    ruleset = write_ruleset(tmp_path, f"""
rules:
  all-as:
    given: $.info
    severity: warn
    message: description must be made of a's
    then: {{field: description, function: pattern, functionOptions: {{match: '{slow}'}}}}
""")  # fmt: skip
    findings = lint(spec(HOSTILE_VALUE), ruleset)
    assert len(findings) == 1
    finding = findings[0]
    assert (finding.rule, finding.pointer, finding.severity) == ("all-as", "/info/description", "warning")
    assert f"/{slow}/" in finding.message
    assert f"took longer than {regexes.BACKTRACK_LIMIT_MS} ms on this value" in finding.message
    assert "needs backtracking" in finding.message and "simplify the pattern" in finding.message


@pytest.mark.timeout(60)
def test_a_pattern_that_keeps_timing_out_is_given_up_after_a_few_values(tmp_path, monkeypatch):
    """Each value costs the time limit: a spec with thousands of such values would stall the gate for hours."""
    monkeypatch.setattr(regexes, "MAX_REGEX_TIMEOUTS", 2)
    ruleset = write_ruleset(tmp_path, f"""
rules:
  all-as:
    given: $.paths[*][*]
    then: {{field: summary, function: pattern, functionOptions: {{match: "{SLOW_LOOKAHEAD}"}}}}
""")  # fmt: skip
    findings = lint(spec("d", {f"/p{i}": HOSTILE_VALUE for i in range(6)}), ruleset)
    assert len(findings) == 6
    timed_out = [f for f in findings if "took longer than" in f.message and "not checked" not in f.message]
    given_up = [f for f in findings if f.message.startswith("not checked")]
    assert len(timed_out) == 2 and len(given_up) == 4
    assert "on 2 values" in given_up[0].message


@pytest.mark.timeout(30)
def test_a_pathological_filter_pattern_names_the_node_it_ran_out_of_time_on(tmp_path):
    path = compile_path(f"$.paths[*][?(@.summary.match(/{SLOW_LOOKAHEAD}/))]")
    document = spec("d", {"/quick": "aaa", "/slow": HOSTILE_VALUE})
    with pytest.raises(RegexTimeout) as timeout:
        Evaluator(document).select(path)
    assert timeout.value.pointer == "/paths/~1slow/get"
    assert str(timeout.value).startswith("at /paths/~1slow/get, the filter's pattern")
    ruleset = write_ruleset(tmp_path, f"""
rules:
  slow-filter:
    given: "{path.source}"
    then: {{field: operationId, function: truthy}}
""")  # fmt: skip
    findings = lint(document, ruleset)
    assert findings and all(f.severity == "error" for f in findings)  # no verdict: never a silent pass
    assert any("/paths/~1slow/get" in f.message and "took longer than" in f.message for f in findings)
    timed_out = next(f for f in findings if "took longer than" in f.message)
    assert (timed_out.rule, timed_out.pointer) == ("slow-filter", "/paths/~1slow/get")
    assert timed_out.fix.startswith("simplify the pattern")


@pytest.mark.timeout(30)
def test_a_pathological_status_code_pattern_is_a_finding(tmp_path):
    ruleset = write_ruleset(tmp_path, f"""
rules:
  codes:
    given: $.paths[*][*].responses
    then: {{function: apiops-response-codes, functionOptions: {{match: "{SLOW_LOOKAHEAD}"}}}}
""")  # fmt: skip
    document = spec("d", {"/a": "x"})
    document["paths"]["/a"]["get"]["responses"] = {HOSTILE_VALUE: {"description": "odd"}}
    findings = lint(document, ruleset)
    assert [(f.rule, f.pointer) for f in findings] == [("codes", "/paths/~1a/get/responses")]
    assert "took longer than" in findings[0].message


@pytest.mark.parametrize("options, fine, reported", [
    ({"type": "camel"}, "getX", "getXY"),
    ({"type": "pascal"}, "GetX", "GetXYZ"),
    ({"type": "camel", "separator": {"char": "-"}}, "getX-putY", "getXY-put"),
    ({"type": "snake", "separator": {"char": "]"}}, "a_b]c", "a_b]]c"),
])  # fmt: skip
def test_casing_keeps_its_meaning_on_the_linear_engine(options, fine, reported):
    from apiops_pipelines.lint.functions import _prepare_casing

    regex, _ = _prepare_casing(options)
    assert regex.linear and regex.search(fine) and not regex.search(reported)


def _count_backtracking(monkeypatch) -> list[str]:
    """Every backtracking search times out at once and is counted (no clock involved)."""
    calls: list[str] = []

    def timed_out(self, text: str, anchored: bool) -> bool:
        calls.append(text)
        raise RegexTimeout(self, regexes.BACKTRACK_LIMIT_MS)

    monkeypatch.setattr(regexes.JsRegex, "_backtrack", timed_out)
    return calls


def test_a_filter_that_ran_out_of_time_is_not_evaluated_again_for_the_next_rule(tmp_path, monkeypatch):
    """The timeout was not cached: every rule with the same `given` paid the time limit again."""
    calls = _count_backtracking(monkeypatch)
    given = f"$.paths[*][?(@.summary.match(/{SLOW_LOOKAHEAD}/))]"
    rules = "".join(f"""
  rule-{n}:
    given: "{given}"
    then: {{field: operationId, function: truthy}}""" for n in range(3))  # fmt: skip
    findings = lint(spec("d", {"/slow": HOSTILE_VALUE}), write_ruleset(tmp_path, "rules:" + rules))
    assert len(calls) == 1
    assert sorted(f.rule for f in findings) == ["rule-0", "rule-1", "rule-2"]
    assert all(f.pointer == "/paths/~1slow/get" and "took longer than" in f.message for f in findings)


def test_filter_timeouts_count_toward_the_per_document_limit(tmp_path, monkeypatch):
    """Filters searched without the shared counter: each distinct path paid the limit, past MAX_REGEX_TIMEOUTS."""
    monkeypatch.setattr(regexes, "MAX_REGEX_TIMEOUTS", 2)
    calls = _count_backtracking(monkeypatch)
    rules = "".join(f"""
  rule-{n}:
    given: "$.paths[*][?(@.summary.match(/{SLOW_LOOKAHEAD}/))]{'.responses' * n}"
    then: {{function: truthy}}""" for n in range(4))  # fmt: skip
    findings = lint(spec("d", {"/slow": HOSTILE_VALUE}), write_ruleset(tmp_path, "rules:" + rules))
    assert len(calls) == 2
    given_up = [f for f in findings if f.message.startswith("not checked")]
    assert len(findings) == 4 and len(given_up) == 2 and "on 2 values" in given_up[0].message
