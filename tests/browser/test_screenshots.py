"""Full-page screenshots of every page type, light and dark, desktop and phone, for people to look at.

They go to $SCREENSHOT_DIR (default: test-artifacts/screenshots/ in the repository) as
``<page>-<theme>-<device>.png``, e.g. ``roadmap-dark-mobile.png``. Part of every run, so the pictures never
go stale; ``-m "not screenshots"`` leaves them out.
"""

import os
import struct
from pathlib import Path

import pytest

from tests.browser.pages import DESKTOP, MOBILE, SITE_PAGES, open_site_page

pytestmark = pytest.mark.screenshots

REPOSITORY = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DEVICES = {"desktop": DESKTOP, "mobile": MOBILE}


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    directory = Path(os.environ.get("SCREENSHOT_DIR") or REPOSITORY / "test-artifacts" / "screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG header; fails unless the file starts like a PNG."""
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE and header[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


@pytest.mark.parametrize("site_page", SITE_PAGES, ids=str)
def test_screenshots_in_both_themes_on_desktop_and_phone(new_page, site_page, site_learner, log_in_as, screenshot_dir):
    written = []
    for device, options in DEVICES.items():
        page = new_page(**options)
        for scheme in ("light", "dark"):
            path = screenshot_dir / f"{site_page.name}-{scheme}-{device}.png"
            path.unlink(missing_ok=True)
            page.emulate_media(color_scheme=scheme)
            if scheme == "light":
                open_site_page(page, site_page, log_in_as=log_in_as, learner=site_learner)
            else:
                page.reload()
            page.screenshot(path=path, full_page=True, animations="disabled")
            written.append(path)

    for path in written:
        assert path.is_file(), f"{path} was not written"
        width, height = png_size(path)
        assert width > 0 and height > 0, f"{path} is an empty picture ({width}x{height})"
