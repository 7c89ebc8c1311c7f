"""MkDocs hook (mkdocs.yml, ``hooks``): the docstrings' Sphinx roles, which mkdocstrings leaves
as text, render as plain code: ``:func:`x``` and ``:class:`~pkg.module.Name``` show as ``x`` and
``Name``."""
import re

# what Python-Markdown makes of :role:`target`: the role as text, then the target as code
ROLE = re.compile(r":(?:func|meth|class|attr|mod|data|obj|exc):<code>(~?)([^<]*)</code>")


def _code(match: re.Match) -> str:
    target = match.group(2)
    if match.group(1):  # ~a.b.Name: Sphinx shows Name
        target = target.rsplit(".", 1)[-1]
    return f"<code>{target}</code>"


def on_page_content(html: str, **kwargs) -> str:
    return ROLE.sub(_code, html)
