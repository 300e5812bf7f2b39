"""The pure rules stay pure (issue 11): importing any ``tracker.domain`` module loads neither
Flask, SQLAlchemy, WTForms nor ReportLab, so other systems and scripts can use them cheaply."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import tracker.domain

HEAVY = ("flask", "flask_babel", "flask_login", "wtforms", "sqlalchemy", "reportlab", "werkzeug")
DOMAIN = Path(tracker.domain.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(DOMAIN.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


#: Every module below ``tracker/domain``, packages and their submodules included, so that a
#: module split into a package stays checked.
MODULES = sorted(_module_name(path) for path in DOMAIN.rglob("*.py"))


@pytest.mark.parametrize("module", MODULES)
def test_a_domain_module_imports_nothing_heavy(module: str) -> None:
    probe = (
        f"import sys, {module}; "
        f"print(sorted({{n.split('.')[0] for n in sys.modules}} & set({HEAVY!r})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]", f"{module} pulls in {loaded}"


def test_the_walk_reaches_the_modules_inside_packages() -> None:
    assert "tracker.domain" in MODULES
    assert "tracker.domain.wareki" in MODULES
    assert "tracker.domain.retention" in MODULES
    assert any(module.startswith("tracker.domain.retention.") for module in MODULES)


def test_the_app_factory_is_still_importable_from_the_package() -> None:
    from tracker import create_app
    from tracker.app import create_app as factory

    assert create_app is factory
