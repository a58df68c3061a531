"""Run axe-core (vendored in ``vendor/``, see its README) on a Playwright page.

Every rule axe runs by default, plus the WCAG 2.x A/AA and best-practice rules
that axe leaves off by default and that are neither experimental nor
deprecated. Today that adds ``target-size`` (WCAG 2.2's 2.5.8, 24 by 24 CSS
pixels or enough spacing); the rule set is computed, not listed, so that an
upgrade of axe cannot quietly drop a new rule of those levels.
"""

from pathlib import Path

AXE_SOURCE = (Path(__file__).with_name("vendor") / "axe.min.js").read_text(encoding="utf-8")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
MAX_NODES_PER_RULE = 10

RUN_AXE = """
async (tags) => {
  const enable = axe.getRules(tags)
    .filter((rule) => !rule.tags.includes("experimental") && !rule.tags.includes("deprecated"))
    .map((rule) => rule.ruleId);
  const rules = Object.fromEntries(enable.map((id) => [id, { enabled: true }]));
  const results = await axe.run(document, { resultTypes: ["violations"], rules });
  return {
    version: axe.version,
    enabled: enable,
    violations: results.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      helpUrl: violation.helpUrl,
      nodes: violation.nodes.map((node) => ({
        target: node.target.map((part) => (Array.isArray(part) ? part.join(" >>> ") : part)),
        html: node.html,
        summary: node.failureSummary,
      })),
    })),
  };
}
"""


def axe_violations(page) -> list[dict]:
    """The axe violations on ``page`` as it is now, as plain dicts (see ``RUN_AXE``).

    The script goes in through ``page.evaluate`` (the DevTools protocol), which
    the site's Content-Security-Policy does not apply to, so the pages are
    tested under their real policy.
    """
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    assert page.evaluate("typeof window.axe === 'object'"), f"axe-core did not load into {page.url}"
    result = page.evaluate(RUN_AXE, TAGS)
    assert "target-size" in result["enabled"], f"axe-core {result['version']} no longer has the target-size rule"
    return result["violations"]


def format_violations(violations: list[dict]) -> str:
    """One block per rule: id, impact, help (and its URL), then each offending node's selector, HTML and why."""
    lines = []
    for violation in violations:
        nodes = violation["nodes"]
        lines.append(
            f"- {violation['id']} [{violation['impact']}] {violation['help']} ({len(nodes)} "
            f"node{'s' if len(nodes) != 1 else ''}) {violation['helpUrl']}"
        )
        for node in nodes[:MAX_NODES_PER_RULE]:
            html = " ".join(node["html"].split())
            lines.append(f"    at {', '.join(node['target'])}")
            lines.append(f"       {html[:300]}{' …' if len(html) > 300 else ''}")
            lines.extend(f"       {reason.strip()}" for reason in (node["summary"] or "").splitlines())
        if len(nodes) > MAX_NODES_PER_RULE:
            lines.append(f"    … and {len(nodes) - MAX_NODES_PER_RULE} more")
    return "\n".join(lines)


def axe_problems(page, label: str) -> list[str]:
    """``[]`` if axe finds nothing on ``page``, else one readable report headed by ``label``."""
    violations = axe_violations(page)
    if not violations:
        return []
    return [f"axe-core: {len(violations)} rule(s) violated on {label}:\n{format_violations(violations)}"]


def assert_no_axe_violations(page, label: str = "") -> None:
    problems = axe_problems(page, label or page.url)
    assert not problems, problems[0]
