"""What a user sees as broken layout, checked in the browser (issue 12, part 10).

Used by tests/e2e/test_layout.py at 1280×800 and 1366×768, and by scripts/screenshots.py
against a server with the demo data. The check reports: a page wider than the window (a
horizontal scroll bar), the header's items on more than one line, the menu on more than one
line, a short label, heading, button or table header broken over two lines (結/果), and a
select too narrow for its chosen option (the default location's long name cut off).
"""

from __future__ import annotations

import re

from playwright.sync_api import Page

#: Screens per demo login: a path, or ``follow:<list path>:<href regex>`` for the first detail
#: page linked from a list, optionally ``|then:<href regex>`` to follow one more link from it;
#: ``{item}`` stands for the first item a kana search finds. ``search=<words>`` (as a screen or
#: a list path) types the words into the search page and presses Enter: the search posts and
#: its results live at ``/items?s=<token>`` (issue 16: no name or kana in any URL).
SCREENS: dict[str, list[str]] = {
    "clerk": [
        "/",
        "/search",
        "search=ヤマダ",
        "follow:search=ヤ:^/items/\\d+$",
        "follow:search=ヤ:^/items/\\d+$|then:^/envelopes/\\d+$",
        "/handover?item={item}",
        "/envelopes/new",
        "/locations",
        "follow:/locations:^/locations/\\d+$",
        "/handovers",
        "/remailings",
        "/notices",
        "/identity-policy",
        "/account/password",
        "/stock-checks",
        "/stock-checks/new",
        "/missing-items",
        "/pickup/days",
        "/reservations/today",
        "/reservations/new?item={item}",
    ],
    "officer": [
        "/",
        "/imports",
        "/retention",
        "/retention/gaps",
        "/disposal/eligible?as_of=2020-04-01",
        "/disposal/batches",
        "/disposal/verify",
        "/records-retention",
        "/handovers/review",
        "/register-checks",
        "/register/investigation",
        "/register/requests",
        "/notices/returns",
        "/remailings",
        "/notices",
        "/notices/template",
        "/stock-checks",
        "/protections",
        "/pickup/days",
        "/pickup/days/open",
        "/pickup/days/import",
        "follow:/pickup/days:^/pickup/days/\\d+$",
        "/access-requests",
        "/access-requests/new",
    ],
    "auditor": [
        "/",
        "/audit",
        "/audit/verify",
        "/records-retention",
        "/handovers/review",
        "/protections",
        "/reservations/today",
        "follow:search=ヤ:^/items/\\d+$|then:^/items/\\d+/history$",
        "/pickup/days",
        "/access-requests",
    ],
    "admin": [
        "/",
        "/admin/users",
        "/admin/users/new",
        "follow:/admin/users:^/admin/users/\\d+$",
        "/admin/settings",
        "/admin/settings/directory",
        "/admin/locations",
    ],
}

CHECK_JS = r"""
() => {
  const found = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth + 1)
    found.push(`page is ${doc.scrollWidth}px wide in a ${window.innerWidth}px window`);
  const header = [...document.querySelectorAll(".topbar > .brand, .topbar > .scan, .topbar > .whoami")];
  const middles = new Set(header.map(e => { const r = e.getBoundingClientRect(); return Math.round((r.top + r.bottom) / 8); }));
  if (middles.size > 1) found.push(`header items sit on ${middles.size} lines`);
  const nav = document.querySelector(".mainnav");
  if (nav) {
    const tops = new Set([...nav.querySelectorAll("a")].map(e => Math.round(e.getBoundingClientRect().top)));
    if (tops.size > 1) found.push(`menu wraps onto ${tops.size} lines`);
  }
  for (const el of document.querySelectorAll("th, nav a, button, .button, label, h1, h2, dt")) {
    const text = el.textContent.trim();
    if (!text || text.length > 12 || el.offsetParent === null) continue;
    const hidden = el.querySelector(".visually-hidden");  // read out, never shown
    if (hidden && hidden.textContent.trim() === text) continue;
    const range = document.createRange();
    range.selectNodeContents(el);
    // a new line starts where a piece of text begins below the bottom of the previous one
    const rects = [...range.getClientRects()].filter(r => r.width > 0).sort((a, b) => a.top - b.top);
    let lines = rects.length ? 1 : 0, bottom = rects.length ? rects[0].bottom : 0;
    for (const r of rects.slice(1)) { if (r.top >= bottom - 2) lines++; bottom = Math.max(bottom, r.bottom); }
    if (lines > 1) found.push(`「${text}」 (${el.tagName.toLowerCase()}) breaks over ${lines} lines`);
  }
  const canvas = document.createElement("canvas").getContext("2d");
  for (const sel of document.querySelectorAll("select")) {
    if (sel.offsetParent === null || sel.multiple) continue;
    const option = sel.options[sel.selectedIndex];
    if (!option) continue;
    const style = getComputedStyle(sel);
    canvas.font = `${style.fontSize} ${style.fontFamily}`;
    const needed = canvas.measureText(option.text).width + 28;
    if (needed > sel.clientWidth + 1)
      found.push(`select ${sel.name || sel.id}: 「${option.text}」 needs ${Math.round(needed)}px, has ${sel.clientWidth}px`);
  }
  return found;
}
"""


def _links(page: Page, pattern: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    return [href for href in hrefs if href and re.match(pattern, href.split("?")[0])]


def _open(page: Page, base: str, path: str) -> None:
    """Go to ``path``; ``search=<words>`` searches for the words the way a clerk does."""
    if not path.startswith("search="):
        page.goto(f"{base}{path}")
        return
    page.goto(f"{base}/items")
    box = page.locator("#q")
    box.fill(path.removeprefix("search="))
    with page.expect_navigation():
        box.press("Enter")


def resolve(page: Page, base: str, target: str) -> str | None:
    """The path a screen entry names, following links for ``follow:`` entries (``None`` when
    the list links to nothing of that kind)."""
    if "{item}" in target:
        _open(page, base, "search=ヤ")
        found = _links(page, r"^/items/\d+$")
        return target.replace("{item}", found[0].rsplit("/", 1)[1]) if found else None
    if target.startswith("search="):
        _open(page, base, target)
        return page.url.removeprefix(base)
    if not target.startswith("follow:"):
        return target
    _, list_path, pattern = target.split(":", 2)
    pattern, _, then = pattern.partition("|then:")
    _open(page, base, list_path)
    found = _links(page, pattern)
    if not found or not then:
        return found[0] if found else None
    page.goto(f"{base}{found[0]}")
    more = _links(page, then)
    return more[0] if more else None
