"""MkDocs hook: take the language alternates out of each page's <head>, keep them in the header.

mkdocs-static-i18n points the language switch at the current page in each language, so that
switching stays on the page. Material writes the same links into the <head> as
`<link rel="alternate" hreflang=...>`, and its JavaScript fetches `sitemap.xml` next to each of
them, expecting a language's root: next to a page there is none, so every page load asked for
two missing files and logged two errors (mkdocs-material issue 6582). The header's links do the
switching; the <head> links would only matter to search engines, which want absolute URLs and so
a `site_url`, which this site does not set.
"""

from __future__ import annotations

import re

LANGUAGE_ALTERNATE = re.compile(r'^[ \t]*<link rel="alternate" href="[^"]*" hreflang="[^"]*">[ \t]*\n', re.MULTILINE)
LANGUAGE_SWITCH = re.compile(r'<a href="[^"]*" hreflang="([\w-]+)" class="md-select__link">')


def on_post_page(output: str, **_: object) -> str:
    """Remove the <link rel="alternate" hreflang> tags of a rendered page (MkDocs event)."""
    return LANGUAGE_ALTERNATE.sub("", output)


def on_post_template(output_content: str, template_name: str, config: object) -> str:
    """The 404 page's language switch goes to each language's home page (MkDocs event).

    The 404 page is no page of either language; without this, its switch kept the links of
    whichever page was rendered last. Its other links are absolute ("/assets/..."), so these are.
    """
    if template_name != "404.html":
        return output_content
    default = next(language.locale for language in config.plugins["i18n"].config.languages if language.default)

    def home(match: re.Match) -> str:
        link = "/" if match[1] == default else f"/{match[1]}/"
        return f'<a href="{link}" hreflang="{match[1]}" class="md-select__link">'

    return LANGUAGE_SWITCH.sub(home, LANGUAGE_ALTERNATE.sub("", output_content))
