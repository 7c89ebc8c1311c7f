"""The docs site (mkdocs.yml) stays whole without building it: every public name has a page in
the API reference, every page is in the navigation, every link between pages and from the README
finds its file, and the flags page lists every flag of the experiment scripts. The build itself
(`mkdocs build --strict`, which also checks anchors and the docstrings' references) runs in
.ci/run."""
import ast
import dataclasses
import re
from pathlib import Path

import doppelganger_tf
from doppelganger_tf import baselines

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
REFERENCE = DOCS / "reference"
# pages in docs/ that are deliberately not in the navigation (none yet)
NOT_IN_NAV = set()


def reference_targets():
    """{dotted path after ':::': the reference page that renders it}."""
    return {match: page.name for page in REFERENCE.glob("*.md")
            for match in re.findall(r"^::: (\S+)", page.read_text(), re.M)}


def module_file(dotted: str):
    """The source file of the module ``dotted`` names, or None."""
    path = ROOT.joinpath(*dotted.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def defined_names(source: Path):
    tree = ast.parse(source.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def test_every_public_name_has_an_api_reference_entry():
    documented = {target.rsplit(".", 1)[-1] for target in reference_targets()}
    missing = sorted(set(doppelganger_tf.__all__) - documented)
    assert not missing, (f"doppelganger_tf.__all__ names without a '::: ...' entry in "
                         f"docs/reference/*.md: {missing}")
    missing = sorted(set(baselines.__all__) - documented)
    assert not missing, f"doppelganger_tf.baselines names without a reference entry: {missing}"


def test_every_reference_entry_names_something_that_exists():
    # mkdocstrings would fail the build on these; this says which without mkdocs installed
    broken = []
    for target, page in reference_targets().items():
        if module_file(target):
            continue  # a whole module
        module, name = target.rsplit(".", 1)
        source = module_file(module)
        if source is None or name not in defined_names(source):
            broken.append(f"{page}: {target}")
    assert not broken, f"reference entries naming nothing: {broken}"


def nav_pages():
    text = (ROOT / "mkdocs.yml").read_text()
    nav = text[text.index("\nnav:"):]
    return set(re.findall(r"(?:^|:|-)\s*([\w/.-]+\.md)\s*$", nav, re.M))


def test_every_page_is_in_the_navigation():
    pages = {str(page.relative_to(DOCS)) for page in DOCS.rglob("*.md")}
    nav = nav_pages()
    assert not nav - pages, f"mkdocs.yml's nav names missing pages: {sorted(nav - pages)}"
    missing = sorted(pages - nav - NOT_IN_NAV)
    assert not missing, (f"pages in docs/ missing from mkdocs.yml's nav (add them, or to "
                         f"NOT_IN_NAV here if they are deliberately left out): {missing}")


def test_links_between_pages_and_from_the_readme_find_their_files():
    broken = []
    sources = [ROOT / "README.md", *DOCS.rglob("*.md")]
    for source in sources:
        for link in re.findall(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)", source.read_text()):
            if "://" not in link and not (source.parent / link).exists():
                broken.append(f"{source.relative_to(ROOT)} -> {link}")
    assert not broken, f"links to missing pages: {broken}"


def test_the_readme_example_imports_public_names():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1, "README.md should hold one python example"
    tree = ast.parse(blocks[0])
    assert len(blocks[0].splitlines()) <= 25, "README.md's example should stay short"
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and node.module == "doppelganger_tf" for alias in node.names}
    assert imported <= set(doppelganger_tf.__all__), imported - set(doppelganger_tf.__all__)


def script_flag_names():
    """The flags the experiment scripts define: literal names of flags.DEFINE_* calls, and
    one per DGConfig field and run setting (experiments/common.py's define_dg_flags)."""
    from doppelganger_tf import config

    names = set()
    aliases = {}
    for script in (ROOT / "experiments").glob("*.py"):
        tree = ast.parse(script.read_text())
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr.startswith("DEFINE_") and node.args
                    and isinstance(node.args[0], ast.Constant)):
                names.add(node.args[0].value)
            if (isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "FLAG_ALIASES" for t in node.targets)):
                aliases = ast.literal_eval(node.value)
    names |= {aliases.get(field.name, field.name)
              for field in dataclasses.fields(config.DGConfig)}
    names |= set(getattr(config, "RUN_SETTING_RULES", {}))
    return names


def test_the_flags_page_lists_every_flag():
    page = (REFERENCE / "flags.md").read_text()
    listed = set(re.findall(r"`--(\w+)`", page))
    missing = sorted(script_flag_names() - listed)
    assert not missing, (f"docs/reference/flags.md lacks {missing}: regenerate it with "
                         f"'python docs/flags_page.py'")
