"""The documents the code cites ship with the repository (docs/README.md).

* every ``*.md`` name in a docstring or comment of a source module (outside tests) is a file of
  the repository, relative to the module's folder or to the repository root, and a cited
  section (``docs/neurons.md#lifb``) is a heading of that file; a name the module itself writes
  (a string constant such as ``"summary.md"``) is an output, not a citation;
* no source module points at documents outside the repository;
* the links between the docs (``[text](file.md#section)``) resolve to a file and a heading.
"""

from __future__ import annotations

import ast
import io
import pathlib
import re
import tokenize

REPO = pathlib.Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
SKIP = {"tests", "build", ".venv", ".venv-lava", ".git"}

#: a markdown file name, optionally with a folder and a #section
MD_NAME = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.md)(#[\w-]+)?")
#: a markdown link target: (path.md#section), (path.md) or (#section)
MD_LINK = re.compile(r"\]\(([^)\s]*)\)")


def _sources() -> list[pathlib.Path]:
    out = []
    for path in sorted(REPO.rglob("*.py")):
        rel = path.relative_to(REPO)
        if rel.parts[0] in SKIP or any(p.startswith(".") for p in rel.parts):
            continue
        out.append(path)
    return out


def _prose(path: pathlib.Path) -> tuple[str, set[str]]:
    """(docstrings and comments of a module, its other string constants)."""
    source = path.read_text()
    tree = ast.parse(source, str(path))
    docs, doc_nodes = [], set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                docs.append(body[0].value.value)
                doc_nodes.add(id(body[0].value))
    strings = {n.value for n in ast.walk(tree)
               if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in doc_nodes}
    comments = [tok.string for tok in tokenize.generate_tokens(io.StringIO(source).readline)
                if tok.type == tokenize.COMMENT]
    return "\n".join(docs + comments), strings


def slug(heading: str) -> str:
    """GitHub's anchor of a markdown heading."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(md: pathlib.Path) -> set[str]:
    found, seen, fenced = set(), {}, False
    for line in md.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        m = re.match(r"#{1,6} (.+)", line)
        if m and not fenced:
            s = slug(m.group(1))
            n = seen.get(s, 0)
            seen[s] = n + 1
            found.add(s if n == 0 else f"{s}-{n}")
    return found


def _resolve(name: str, folders: list[pathlib.Path]) -> pathlib.Path | None:
    for folder in folders:
        p = (folder / name).resolve()
        if p.is_file() and REPO in p.parents:
            return p
    return None


def test_docs_folder_has_the_notes():
    names = {p.name for p in DOCS.glob("*.md")}
    assert {"README.md", "design.md", "numeric_semantics.md", "neurons.md", "time_convention.md",
            "netx_format.md", "targets.md"} <= names


def test_every_cited_document_exists():
    sources = _sources()
    assert len(sources) > 50, "module discovery found too few modules"
    missing = []
    for path in sources:
        text, strings = _prose(path)
        rel = path.relative_to(REPO)
        for m in MD_NAME.finditer(text):
            name, section = m.group(1), m.group(2)
            if name in strings:
                continue
            target = _resolve(name, [path.parent, REPO])
            if target is None:
                missing.append(f"{rel}: {name} is not in the repository")
            elif section and section[1:] not in anchors(target):
                missing.append(f"{rel}: {name} has no section {section}")
    assert not missing, "citations of missing documents:\n" + "\n".join(missing)


def test_no_source_points_outside_the_repository():
    bad = [str(p.relative_to(REPO)) for p in _sources() if "shared/docs" in p.read_text()]
    assert not bad, f"modules citing documents outside the repository: {bad}"


def test_doc_links_resolve():
    docs = sorted(DOCS.glob("*.md"))
    assert docs
    broken = []
    for doc in docs:
        for m in MD_LINK.finditer(doc.read_text()):
            target = m.group(1)
            if re.match(r"[a-z]+:", target):         # http:, https:, mailto:
                continue
            file, _, section = target.partition("#")
            path = (doc.parent / file).resolve() if file else doc
            if not path.exists():
                broken.append(f"{doc.name}: {target} (no such file)")
            elif section and path.suffix == ".md" and section not in anchors(path):
                broken.append(f"{doc.name}: {target} (no such section)")
    assert not broken, "broken links in docs/:\n" + "\n".join(broken)


def test_slug_follows_github():
    assert slug("LM-HT") == "lm-ht"
    assert slug("Lava's fixed-point models") == "lavas-fixed-point-models"
    assert slug("lava-dl netx `.net` files") == "lava-dl-netx-net-files"
    assert slug("What runs on a Loihi 2 chip") == "what-runs-on-a-loihi-2-chip"
