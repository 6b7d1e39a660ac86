"""Markdown, HTML and maths for the decks: rendering, and counting what a slide shows.

Formulas are left exactly as written for MathJax (in the page, with TeX input), so the renderer
sets them aside before reading the markdown and puts them back after, as JupyterLab does.
"""
from __future__ import annotations

import html
import re

# A displayed formula: $$..$$, \[..\] or an equation environment (groups 1 to 3 hold its TeX).
DISPLAY = re.compile(r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|(\\begin\{(equation|align|gather|multline)\*?\}.*?\\end\{\4\*?\})",
                     re.S)
INLINE = re.compile(r"\$[^$]+\$|\\\(.+?\\\)", re.S)
_TAG = re.compile(r"<[^>]+>")
# Every formula of a markdown text, displayed ones first, and an escaped dollar (kept for MathJax).
_MATH = re.compile(r"\\\$|(?<!\\)\$\$.+?\$\$|\\\[.+?\\\]|\\begin\{(\w+\*?)\}.*?\\end\{\1\}"
                   r"|(?<!\\)\$[^$]+?(?<!\\)\$|\\\(.+?\\\)", re.S)


def words(text: str) -> int:
    """Visible words of markdown or HTML ``text``: a formula counts as one, tags and pure
    punctuation as none."""
    text = DISPLAY.sub(" F ", text)
    text = INLINE.sub(" F ", text)
    text = html.unescape(_TAG.sub(" ", text))
    return sum(1 for w in text.split() if re.search(r"\w", w))


def markdown_html(text: str) -> str:
    """Markdown to HTML (mistune, as nbconvert and JupyterLab render it) with every formula left
    as written for MathJax: formulas are set aside first, so that ``_`` and ``*`` inside them are
    never read as emphasis, and put back, HTML-escaped, afterwards."""
    import mistune

    maths = []

    def stash(m):
        maths.append(m.group(0))
        return f"MFLABMATH{len(maths) - 1}X"

    out = mistune.html(_MATH.sub(stash, text))
    return re.sub(r"MFLABMATH(\d+)X", lambda m: html.escape(maths[int(m.group(1))], quote=False), out)


def inline_html(text: str) -> str:
    """One line of markdown (a title, a list item) as inline HTML: "1. Intro" stays a title,
    not a numbered list."""
    text = re.sub(r"^(\s*\d+)([.)]\s)", r"\1\\\2", text.strip())
    text = re.sub(r"^([-+*#>]\s)", r"\\\1", text)
    out = markdown_html(text).strip()
    return re.sub(r"^<p>(.*)</p>$", r"\1", out, flags=re.S)


def formula_html(tex: str) -> str:
    return f'<div class="mf-formula">\\[{html.escape(tex.strip())}\\]</div>'


def latex_output(text: str) -> str:
    """SymPy's ``text/latex`` (``$\\displaystyle ...$`` or ``$$...$$``) as TeX for a displayed formula."""
    tex = text.strip()
    for opener, closer in (("$$", "$$"), ("$", "$"), ("\\[", "\\]")):
        if tex.startswith(opener) and tex.endswith(closer) and len(tex) > len(opener) + len(closer):
            tex = tex[len(opener):-len(closer)]
            break
    return tex.replace("\\displaystyle", "").strip()


def first_clause(text: str) -> str:
    """The first clause of a point ("The factors are readable: one carries..." -> "The factors are
    readable"), cut at a '.', ';' or ':' followed by a space, never inside a formula."""
    protected = INLINE.sub(lambda m: "\0" * len(m.group(0)), text)
    m = re.search(r"[.;:](\s|$)", protected)
    return (text[:m.start()] if m else text).strip()
