"""Languages: Bahasa Indonesia first, English one tap away (Flask-Babel).

Source strings are English; each surface keeps its own Indonesian catalog in
`<surface>/translations/id/LC_MESSAGES/messages.po` (compiled by
scripts/setup.sh), and Flask-Babel merges them. The language comes from
`?lang=` (remembered in a cookie), then the cookie, then Indonesian.
"""

from flask import Blueprint, current_app, g, render_template, request
from flask_babel import Babel, force_locale, get_locale
from flask_babel import lazy_gettext as _l

LANGUAGES = ("id", "en")
DEFAULT = "id"
SURFACES = ("web", "kiosk", "counter", "display", "admin", "booking")


def select_locale():
    """The request's language."""
    lang = request.args.get("lang")
    if lang in LANGUAGES:
        g.set_lang_cookie = lang
        return lang
    lang = request.cookies.get("lang")
    return lang if lang in LANGUAGES else DEFAULT


def _remember_lang(response):
    lang = g.pop("set_lang_cookie", None)
    if lang:
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="Lax")
    return response


# Strings giliran.js shows on every page.
COMMON_MESSAGES = {
    "offline": _l("Connection to the server lost. Reconnecting…"),
    "wait_under_minute": _l("under a minute"),
    "wait_minutes": _l("about {n} min"),
    "wait_hours": _l("about {h} h {m} min"),
    "error_offline": _l("No connection to the server. Nothing was sent; please try again."),
    "error_generic": _l("Something went wrong. Please try again."),
}


def messages(keys):
    """{lang: {key: text}} for strings the page's JavaScript shows, in both languages."""
    out = {}
    for lang in LANGUAGES:
        with force_locale(lang):
            out[lang] = {key: str(text) for key, text in {**COMMON_MESSAGES, **keys}.items()}
    return out


def pages_blueprint(surface, import_name):
    """A surface's pages (`<surface>_pages`): its templates/, its static/ at /<surface>/static."""
    return Blueprint(f"{surface}_pages", import_name, template_folder="templates",
                     static_folder="static", static_url_path=f"/{surface}/static")


def render_page(template, page_messages=None, config=None, **context):
    """Render a page with window.GILIRAN set: language, both catalogs, the MPP's zone."""
    page_config = {
        "lang": str(get_locale()),
        "messages": messages(page_messages or {}),
        "tz": current_app.extensions["giliran"].clock.tz_name,
        **(config or {}),
    }
    return render_template(template, page_config=page_config, **context)


def init_app(app, root):
    """Attach Flask-Babel with every surface's catalog."""
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(
        str(root / surface / "translations") for surface in SURFACES)
    Babel(app, locale_selector=select_locale)
    app.after_request(_remember_lang)
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["get_locale"] = get_locale
