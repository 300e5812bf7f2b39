"""Translations resolved once per request (issue 18).

Flask-Babel resolves the translations on every call: the domain, the locale (three lookups in
``g`` each), ``str(locale)`` and its cache; a search page of 50 results makes ~280 calls, a
third of its rendering time. Here the request's :class:`~babel.support.Translations` is looked
up once and kept where Flask-Babel keeps its own (``g._flask_babel.babel_translations``), so
``flask_babel.refresh()`` and ``force_locale()``, which reset that attribute, still switch the
language mid-request. The strings and what they translate to are unchanged.
"""

from __future__ import annotations

from typing import Any

from babel.support import NullTranslations
from flask import Flask, g
from flask_babel import _get_current_context, get_translations
from flask_babel.speaklater import LazyString
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup


def translations() -> NullTranslations:
    """The current request's translations (Flask-Babel's, resolved on the first call)."""
    try:
        context = g._flask_babel
    except (AttributeError, RuntimeError):  # not yet made, or no app context at all
        context = _get_current_context()
        if context is None:
            return NullTranslations()  # what Flask-Babel gives outside a request
    found: NullTranslations | None = getattr(context, "babel_translations", None)
    if found is None:
        found = context.babel_translations = get_translations()
    return found


def gettext(string: str, **variables: Any) -> str:
    """``flask_babel.gettext`` with the request's translations resolved once."""
    translated = translations().ugettext(string)
    return translated if not variables else translated % variables


@pass_eval_context
def template_gettext(eval_context: EvalContext, string: str, **variables: Any) -> str:
    """The templates' ``_()`` and ``gettext()``: what jinja2.ext.i18n's newstyle gettext does
    (escaped when the template autoescapes, always ``%``-formatted, so ``%%`` is ``%``), in
    one call instead of three nested ``Context.call``s (``_`` → ``gettext`` → callable)."""
    translated = translations().ugettext(string)
    if eval_context.autoescape:
        translated = Markup(translated)  # noqa: S704  (our catalogue, as jinja2.ext.i18n does)
    return translated % variables


def install(app: Flask) -> None:
    """Give the templates' ``_()``/``gettext()`` (jinja2.ext.i18n, newstyle, as Flask-Babel
    installs it) the once-per-request translations."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext)


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    """``flask_babel.lazy_gettext`` whose string is translated by :func:`gettext` when used
    (form labels, code labels: many per page)."""
    return LazyString(gettext, string, **variables)
