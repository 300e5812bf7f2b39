"""Every screen at office screen sizes, for the eye test and the layout check (issue 12).

    .venv/bin/python scripts/screenshots.py --base http://127.0.0.1:8000 \
        --credentials instance/demo-credentials.txt --out /tmp/screens [--sizes 1366x768,1280x800]

Logs in as each demo user (the credentials file ``tracker demo-data`` printed), opens every
screen that role uses — detail pages by following the first link of their list — and saves a
full-page PNG per screen and size. It also reports what a user would see as broken layout:
a page wider than the window (a horizontal scroll bar), a menu on more than one line, a short
label, heading, button or table header broken over two lines (結/果), and a select too narrow
for its chosen option. Exit status 1 when anything is reported. Uses Debian's chromium.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.e2e.layout import CHECK_JS, SCREENS, resolve

CHROMIUM = "/usr/bin/chromium"


def read_credentials(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\s+(\S+)\s+.*パスワード:\s*(\S+)", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def log_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_load_state()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--credentials", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--sizes", default="1366x768,1280x800")
    parser.add_argument("--roles", default=",".join(SCREENS))
    options = parser.parse_args()
    credentials = read_credentials(options.credentials)
    options.out.mkdir(parents=True, exist_ok=True)
    sizes = [tuple(int(n) for n in size.split("x")) for size in options.sizes.split(",")]
    problems = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        for role in options.roles.split(","):
            for width, height in sizes:
                context = browser.new_context(
                    viewport={"width": width, "height": height},
                    locale="ja-JP",
                    timezone_id="Asia/Tokyo",
                )
                page = context.new_page()
                log_in(page, options.base, role, credentials[role])
                for target in SCREENS[role]:
                    path = resolve(page, options.base, target)
                    if path is None:
                        print(f"{role} {width}: nothing to open for {target}")
                        continue
                    response = page.goto(f"{options.base}{path}")
                    status = response.status if response else 0
                    name = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "home"
                    shot = options.out / f"{role}-{width}-{name}.png"
                    page.screenshot(path=str(shot), full_page=True)
                    found = page.evaluate(CHECK_JS)
                    flag = "" if status < 400 else f" HTTP {status}"
                    print(f"{role} {width}x{height} {path}{flag} → {shot.name}")
                    for line in found:
                        print(f"    ! {line}")
                    problems += len(found) + (status >= 400)
                context.close()
        browser.close()
    print(f"{problems} layout problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
