"""The documentation stays true to the program: the commands it shows exist, its links resolve, and the tables it
quotes from the model card match the card. (The site itself is built strictly by ``mkdocs build --strict`` in
``.ci/run``.)"""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
FENCE = re.compile(r"```(?:bash|sh|console)\n(.*?)```", re.S)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _commands(text: str) -> list[list[str]]:
    """Every ``antseg ...`` command of the shell blocks in ``text``, as tokens (continuations joined, ``&&``,
    ``;`` and ``|`` separate commands, comments dropped)."""
    out = []
    for block in FENCE.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            lex = shlex.shlex(line, posix=True, punctuation_chars=True)
            lex.whitespace_split = True
            cmd: list[str] = []
            for tok in [*lex, ";"]:
                if tok in ("&&", ";", "|", "||", "&"):
                    if cmd[:1] == ["antseg"]:
                        out.append(cmd)
                    cmd = []
                else:
                    cmd.append(tok)
    return out


def _check_command(root, tokens: list[str] | str) -> list[str]:
    """The options and subcommands of a command line that the ``antseg`` command tree (typer's click objects) lacks."""
    tokens = (shlex.split(tokens) if isinstance(tokens, str) else list(tokens))[1:]
    cmd, path = root, ["antseg"]
    while hasattr(cmd, "commands") and tokens and not tokens[0].startswith("-"):
        if tokens[0] not in cmd.commands:
            return [f"{' '.join(path)} has no command {tokens[0]!r}"]
        path.append(tokens[0])
        cmd = cmd.commands[tokens.pop(0)]
    known = {"--help", "--verbose"}
    for p in cmd.params:
        known.update(getattr(p, "opts", []), getattr(p, "secondary_opts", []))
    flags = {t.split("=")[0] for t in tokens if t.startswith("--")}
    return [f"{' '.join(path)} has no option {f}" for f in sorted(flags - known)]


@pytest.fixture(scope="module")
def tree():
    from antseg.cli.click_tree import command

    return command


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_documented_commands_exist(tree, page):
    problems = [
        f"{line}: {why}" for line in _commands(page.read_text(encoding="utf-8")) for why in _check_command(tree, line)
    ]
    assert not problems, "\n".join(problems)


def test_the_command_check_can_fail(tree):
    assert _check_command(tree, "antseg report scans/ --out r --no-such-flag") == [
        "antseg report has no option --no-such-flag"
    ]
    assert _check_command(tree, "antseg data imprt labelme a b") == ["antseg data has no command 'imprt'"]
    assert _check_command(tree, "antseg report scans/ --no-mirror --out=r") == []


def test_readme_links_resolve():
    """The README is also the PyPI page and is not part of the site: its relative links must point at files."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = [t.split("#")[0] for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]
    assert targets, "the README links into docs/"
    missing = [t for t in targets if t and not (ROOT / t).exists()]
    assert not missing, f"README links to missing files: {missing}"


def test_model_card_tables_match_the_card():
    """The tables that quote model_card.json are the script's output.

    Refresh them with ``python docs/scripts/model_card_tables.py``."""
    spec = importlib.util.spec_from_file_location(
        "model_card_tables", ROOT / "docs" / "scripts" / "model_card_tables.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    card = mod.read_card()
    assert card["measured"], "the shipped card records measured figures"
    for rel, names in mod.FILES.items():
        text = (ROOT / rel).read_text(encoding="utf-8")
        assert mod.render(text, names, card) == text, f"{rel} is out of date with model_card.json"
    first = card["measured"][0]
    assert f"{first['dice']['anterior_chamber']:.3f}" in (ROOT / "README.md").read_text(encoding="utf-8")
