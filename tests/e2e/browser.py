"""What the browser tests share: where Chromium is, how it is started, and a person with a
browser context of their own (``tests/e2e/conftest.py`` has the ``chromium`` and ``person``
fixtures)."""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("GOVEX_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


class Person:
    """One user in their own browser context (own cookies), signed in through the form; with
    no ``username``, someone who has not signed in (on the sign-in page)."""

    def __init__(self, chromium, server, username: str | None, *,
                 locale: str = "zh-CN") -> None:
        self.server, self.username = server, username
        self.context = chromium.new_context(locale=locale, accept_downloads=True,
                                            viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.goto(server["url"] + "/sign-in")
        if username is None:
            return
        self.page.fill("#username", username)
        self.page.fill("#password", server["users"][username]["password"])
        self.page.click("main button[type=submit]")
        self.page.wait_for_url(lambda url: "/sign-in" not in url)

    def goto(self, path: str):
        return self.page.goto(self.server["url"] + path)

    def shot(self, name: str) -> Path:
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()
