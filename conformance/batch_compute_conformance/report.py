"""The three views of an outcome: a terminal summary, ``junit.xml`` and a self-contained
``report.html`` (inline style, no scripts, no external assets)."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from pathlib import Path

from .outcome import Outcome, Violation
from .rules import RULES

__all__ = ["summary", "write_html", "write_junit"]


def summary(outcome: Outcome, base_url: str) -> str:
    rows = [("category", "rules checked", "passed", "failed", "checks", "time")]
    for result in outcome.categories.values():
        rows.append(
            (
                result.name,
                str(result.rules_checked),
                str(result.rules_passed),
                str(result.rules_failed),
                str(sum(result.checks.values())),
                f"{result.seconds:.1f} s",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [f"Batch Compute conformance of {base_url}", ""]
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    for result in outcome.categories.values():
        lines += [f"  note ({result.name}): {_short(note)}" for note in result.notes]
    if outcome.violations:
        lines += ["", f"{len(outcome.violations)} violation(s):"]
        for violation in outcome.violations:
            lines.append(f"  [{violation.category}] {violation.rule}: {violation.message}")
            reproduce = violation.how_to_reproduce()
            if reproduce:
                first = reproduce.splitlines()[0]
                lines.append(f"      reproduce: {first[:300]}")
    lines += [
        "",
        "FAILED: the backend breaks the rules above"
        if outcome.failed
        else "PASSED: every rule checked holds",
    ]
    return "\n".join(lines)


def _short(text: str, limit: int = 240) -> str:
    """Notes stay one readable line on a terminal; report.html has them whole."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def write_junit(outcome: Outcome, path: Path) -> None:
    suites = ET.Element("testsuites", name="batch-compute-conformance")
    by_key: dict[tuple[str, str], list[Violation]] = {}
    for violation in outcome.violations:
        by_key.setdefault((violation.category, violation.rule), []).append(violation)
    for result in outcome.categories.values():
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=result.name,
            tests=str(result.rules_checked),
            failures=str(result.rules_failed),
            errors="0",
            time=f"{result.seconds:.3f}",
        )
        for rule in sorted(result.checks):
            case = ET.SubElement(suite, "testcase", classname=result.name, name=rule, time="0")
            if result.failures.get(rule):
                found = by_key.get((result.name, rule), [])
                failure = ET.SubElement(
                    case,
                    "failure",
                    message=f"{result.failures[rule]} of {result.checks[rule]} checks failed: "
                    f"{RULES[rule].text}",
                )
                failure.text = "\n\n".join(
                    f"{v.message}\n\n{v.exchange.request_text() if v.exchange else ''}\n\n"
                    f"{v.exchange.response_text() if v.exchange else ''}\n\n"
                    f"reproduce:\n{v.how_to_reproduce()}"
                    for v in found
                )
    ET.indent(suites)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 80em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.pass { color: #17692f; font-weight: bold; } .fail { color: #a4161a; font-weight: bold; }
.skip { color: #777; }
pre { background: #f7f7f7; border: 1px solid #ddd; padding: .6em; overflow-x: auto;
      white-space: pre-wrap; word-break: break-all; }
.violation { border-left: 4px solid #a4161a; padding-left: 1em; margin: 1.5em 0; }
"""


def write_html(outcome: Outcome, path: Path, base_url: str) -> None:
    e = html.escape
    verdict = (
        '<p class="fail">FAILED: the backend breaks documented rules.</p>'
        if outcome.failed
        else '<p class="pass">PASSED: every rule checked holds.</p>'
    )
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Batch Compute conformance: {e(base_url)}</title><style>{_STYLE}</style>",
        "</head><body>",
        f"<h1>Batch Compute conformance of {e(base_url)}</h1>",
        verdict,
        "<h2>Categories</h2><table><tr><th>category</th><th>rules checked</th><th>passed</th>"
        "<th>failed</th><th>checks</th><th>time</th></tr>",
    ]
    for result in outcome.categories.values():
        parts.append(
            f"<tr><td>{e(result.name)}</td><td>{result.rules_checked}</td>"
            f"<td>{result.rules_passed}</td><td>{result.rules_failed}</td>"
            f"<td>{sum(result.checks.values())}</td><td>{result.seconds:.1f} s</td></tr>"
        )
    parts.append("</table>")
    notes = [(r.name, n) for r in outcome.categories.values() for n in r.notes]
    if notes:
        parts.append("<ul>" + "".join(f"<li>{e(c)}: {e(n)}</li>" for c, n in notes) + "</ul>")

    parts.append(f"<h2>Violations ({len(outcome.violations)})</h2>")
    if not outcome.violations:
        parts.append("<p>None.</p>")
    for index, violation in enumerate(outcome.violations, 1):
        parts.append(f"<div class='violation' id='v{index}'>")
        parts.append(
            f"<h3>{index}. <code>{e(violation.rule)}</code> ({e(violation.category)})</h3>"
        )
        parts.append(f"<p><em>Rule:</em> {e(violation.text)}</p>")
        parts.append(f"<p><em>Found:</em> {e(violation.message)}</p>")
        if violation.exchange is not None:
            parts.append(f"<p>Request</p><pre>{e(violation.exchange.request_text())}</pre>")
            parts.append(f"<p>Response</p><pre>{e(violation.exchange.response_text())}</pre>")
        reproduce = violation.how_to_reproduce()
        if reproduce:
            parts.append(f"<p>Reproduce</p><pre>{e(reproduce)}</pre>")
        parts.append("</div>")

    parts.append(
        "<h2>Rules</h2><table><tr><th>rule</th><th>category</th><th>rule text</th>"
        "<th>checks</th><th>result</th></tr>"
    )
    checks: dict[str, int] = {}
    failures: dict[str, int] = {}
    for result in outcome.categories.values():
        for rule_id, count in result.checks.items():
            checks[rule_id] = checks.get(rule_id, 0) + count
        for rule_id, count in result.failures.items():
            failures[rule_id] = failures.get(rule_id, 0) + count
    for rule in RULES.values():
        count = checks.get(rule.id, 0)
        if not count:
            verdict_cell = "<span class='skip'>not checked</span>"
        elif failures.get(rule.id):
            verdict_cell = f"<span class='fail'>{failures[rule.id]} failed</span>"
        else:
            verdict_cell = "<span class='pass'>passed</span>"
        parts.append(
            f"<tr><td><code>{e(rule.id)}</code></td><td>{e(rule.category)}</td>"
            f"<td>{e(rule.text)}</td><td>{count}</td><td>{verdict_cell}</td></tr>"
        )
    parts.append("</table>")
    parts.append(
        "<p>Tokens never appear here: reproductions read them from "
        "<code>$BATCH_COMPUTE_TOKEN</code> and <code>$BATCH_COMPUTE_OTHER_TOKEN</code>."
        "</p></body></html>"
    )
    path.write_text("\n".join(parts), encoding="utf-8")
