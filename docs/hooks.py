"""mkdocs hook: the README is the site's home page, so the two never drift apart. Its links into
`docs/` become links between pages; a link elsewhere in the repository stays text."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

README = Path(__file__).resolve().parent.parent / "README.md"


def home_page(text: str) -> str:
    text = re.sub(r"\]\(docs/", "](", text)
    return text.replace("<!-- python-session -->\n", "")


def on_files(files: Files, config: Any) -> Files:
    files.append(File.generated(config, "index.md", content=home_page(README.read_text())))
    return files
