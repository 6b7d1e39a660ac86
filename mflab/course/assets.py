"""The scripts a deck needs, copied out of the venv so that it opens from disk with no network.

- **reveal.js 4** (script, style sheet, white theme, speaker-notes plugin) from ``jupyterlab-rise``
  (the ``lab`` extra), whose source maps carry the original npm files. They are written as plain
  scripts, because browsers refuse ES modules over ``file://``.
- **MathJax 3** (``es5/tex-svg-full.js``: TeX input, SVG output with the TeX fonts drawn as paths,
  every TeX extension inside, so it never loads another file) from the pip package
  ``django-static-mathjax`` (the ``lab`` extra; it ships MathJax's files only and requires nothing,
  Django included). JupyterLab's own MathJax (``jupyterlab-mathjax3``) comes as webpack chunks
  with hashed fonts, which no page outside JupyterLab can load.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import shutil
from pathlib import Path

ASSETS = "_assets"
MATHJAX = "mathjax/tex-svg-full.js"
_MATHJAX_DIST = "django-static-mathjax"
_MATHJAX_FILE = "mathjax/static/mathjax/es5/tex-svg-full.js"
# (file written under _assets/, the file's path inside reveal.js's npm package)
_REVEAL = {
    "reveal/reveal.js": "node_modules/reveal.js/dist/reveal.esm.js",
    "reveal/reveal.css": "node_modules/reveal.js/dist/reveal.css",
    "reveal/white.css": "node_modules/reveal.js/dist/theme/white.css",
    "reveal/notes.js": "node_modules/reveal.js/plugin/notes/notes.esm.js",
}


def _rise_static() -> Path:
    spec = importlib.util.find_spec("jupyterlab_rise")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("make slides needs the jupyterlab-rise package (it ships the reveal.js files "
                           "the decks use offline): run `make setup`, which installs the `lab` extra")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def mathjax_file() -> Path:
    """MathJax 3's ``tex-svg-full.js`` inside the installed ``django-static-mathjax``."""
    try:
        path = Path(importlib.metadata.distribution(_MATHJAX_DIST).locate_file(_MATHJAX_FILE))
    except importlib.metadata.PackageNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise RuntimeError("make slides needs MathJax 3 from the django-static-mathjax package (the `lab` "
                           "extra): run `make setup`")
    return path


def _bundled_sources(wanted) -> dict:
    """Original text of each wanted npm file, read from jupyterlab-rise's source maps."""
    found = {}
    for path in sorted(_rise_static().glob("*.js.map")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if not any(w in text for w in wanted if w not in found):
            continue
        data = json.loads(text)
        for name, content in zip(data.get("sources", []), data.get("sourcesContent") or []):
            for w in wanted:
                if w not in found and content and name.endswith(w):
                    found[w] = content
    missing = [w for w in wanted if w not in found]
    if missing:
        raise RuntimeError(f"jupyterlab-rise at {_rise_static()} no longer carries {missing}; "
                           "make slides needs a version that bundles reveal.js 4")
    return found


def _css_from_loader(module: str) -> str:
    """The style sheet inside a css-loader module: its first template literal after module.id."""
    marker = "___CSS_LOADER_EXPORT___.push([module.id, `"
    out, i = [], module.index(marker) + len(marker)
    while module[i] != "`":
        if module[i] == "\\":
            out.append(module[i + 1])
            i += 2
        else:
            out.append(module[i])
            i += 1
    return "".join(out)


def _as_classic_script(module: str, global_name: str) -> str:
    """An ES module with one default export, as a plain script that sets ``window.<global_name>``."""
    body, n = re.subn(r"export\s+default\s*(?=\(|[A-Za-z_$])", f"window.{global_name}=", module, count=1)
    if n == 0:  # `export { ..., x as default, ... };`
        m = re.search(r"export\s*\{([^}]*)\};?", module)
        default = re.search(r"(\w+)\s+as\s+default", m.group(1)) if m else None
        if default is None:
            raise RuntimeError(f"cannot find the default export for {global_name}")
        body = module[:m.start()] + f"window.{global_name}={default.group(1)};" + module[m.end():]
    body = re.sub(r"^//# sourceMappingURL=.*$", "", body, flags=re.M)
    return f"(function(){{\n{body}\n}})();\n"


def write_assets(out) -> Path:
    """Write reveal.js and MathJax under ``out/_assets`` (each skipped when already there); return it."""
    assets = Path(out) / ASSETS
    if not all((assets / name).is_file() for name in _REVEAL):
        sources = _bundled_sources(list(_REVEAL.values()))
        for name, source in _REVEAL.items():
            text = sources[source]
            if name.endswith(".css"):
                text = _css_from_loader(text)
                text = re.sub(r"^@import url\([^)]*\);\s*$", "", text, flags=re.M)  # web fonts: offline
            else:
                text = _as_classic_script(text, "RevealNotes" if name.endswith("notes.js") else "Reveal")
            target = assets / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    mathjax = assets / MATHJAX
    if not mathjax.is_file():
        mathjax.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(mathjax_file(), mathjax)
    return assets
