"""The docs run as written: every ```python block of README.md and docs/*.md runs, and
every file or heading a doc points at exists.

How a block is run is said by a marker on the line before its fence: an HTML
comment, which GitHub does not show, but which anyone editing the Markdown sees.

- No marker: a complete program. It is written to a scratch folder and run there
  as ``python FILE`` in a fresh process (at most 60 s), and must exit with status 0.
- ``<!-- snippet: fragment -->``: a block shown for its shape, which cannot run on
  its own (an API summary; a key directory in /etc). It is only compiled, with
  top-level ``await`` allowed, so it must still be valid Python. Use it sparingly:
  a block that can be a short program should be one.
- ``<!-- snippet: file NAME.py -->``: a module that programs import (the README's
  ``mycounter.py``). Every such block, from every page, is written to the scratch
  folder before any program runs, so one page may import another page's module.
- ``<!-- snippet: nodes -->``, on a ```sh block: the page's cluster. Its ``ember node``
  lines are started (each must print its listening line), then its ``ember status``
  lines run against them and must exit 0 listing every node.
- ``<!-- snippet: cluster -->``: a complete program that needs the page's nodes; it
  runs while they run, and they must then leave gracefully (exit status 0).

So that a run never collides with anything else on the machine, every
``127.0.0.1:71NN`` in a block gets a free port (one per number, per page), and
``.venv/bin/ember`` and ``.venv/bin/python`` become this interpreter. In a ``nodes``
line, ``VAR=value`` before the command is put in front of the inherited value (so
``PYTHONPATH=.`` keeps the ember under test importable; ``PYTHONPATH=examples``
names the repository's folder, as in a clone), and a ``cluster`` program runs
with the environment of the page's first node.

Every file a page links to or cites (``src/...``, ``examples/...``, ``tests/...``,
``docs/...``, ``bench/...``) must exist, with the heading a link's ``#anchor`` names;
and no doc, docstring or comment may cite a ``*.md`` document that is not in the
repository. Two lists below name what changes in flight elsewhere still owe.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKER = re.compile(r"^\s*<!-- snippet: (?P<kind>[a-z]+)(?: (?P<argument>\S+))? -->\s*$")
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<language>\w*)\s*$")
PORT = re.compile(r"127\.0\.0\.1:(71\d\d)\b")


@dataclass(frozen=True)
class Snippet:
    """One fenced block of a page, with the marker before it (if any)."""

    page: Path
    line: int
    language: str
    code: str
    section: str
    kind: str | None = None
    argument: str | None = None

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def snippets(page: Path) -> Iterator[Snippet]:
    """The fenced blocks of ``page``, dedented, with their markers."""
    lines = page.read_text().splitlines()
    marker: re.Match[str] | None = None
    section = ""
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if fence is None:
            if lines[index].startswith("## "):
                section = lines[index].removeprefix("## ").strip()
            if lines[index].strip():
                marker = MARKER.match(lines[index])
            index += 1
            continue
        start, indent = index, fence["indent"]
        index += 1
        body: list[str] = []
        while not lines[index].strip().startswith("```"):
            body.append(lines[index].removeprefix(indent))
            index += 1
        kind, argument = (marker["kind"], marker["argument"]) if marker else (None, None)
        code = "\n".join(body) + "\n"
        yield Snippet(page, start + 1, fence["language"], code, section, kind, argument)
        marker = None
        index += 1


ALL = [snippet for page in PAGES for snippet in snippets(page)]
PYTHON = [snippet for snippet in ALL if snippet.language == "python"]
PROGRAMS = [snippet for snippet in PYTHON if snippet.kind is None]
FRAGMENTS = [snippet for snippet in PYTHON if snippet.kind in ("fragment", "file", "cluster")]
CLUSTER_PAGES = sorted({snippet.page for snippet in ALL if snippet.kind == "cluster"})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def with_free_ports(code: str, ports: dict[str, int]) -> str:
    """``code`` with each 127.0.0.1:71NN replaced by a free port (the same for one NN)."""

    def replace(match: re.Match[str]) -> str:
        port = ports.setdefault(match[1], free_port())
        return f"127.0.0.1:{port}"

    return PORT.sub(replace, code)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder programs run in, holding every page's ``file`` modules."""
    folder = tmp_path_factory.mktemp("snippets")
    for snippet in ALL:
        if snippet.kind == "file":
            assert snippet.argument is not None, f"{snippet.name}: `file` needs a file name"
            (folder / snippet.argument).write_text(snippet.code)
    return folder


def run_program(
    snippet: Snippet, folder: Path, ports: dict[str, int], env: dict[str, str] | None = None
) -> str:
    """Run ``snippet`` as a program in ``folder`` (with ``env``: the environment of the
    page's nodes, for a ``cluster`` program); fail the test unless it exits 0."""
    script = folder / f"snippet_{snippet.page.stem}_{snippet.line}.py"
    script.write_text(with_free_ports(snippet.code, ports))
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"{snippet.name} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_every_marker_is_one_the_runner_knows() -> None:
    for snippet in ALL:
        if snippet.kind == "nodes":
            assert snippet.language == "sh", f"{snippet.name}: `nodes` marks a sh block"
        elif snippet.kind is not None:
            assert snippet.kind in ("fragment", "file", "cluster"), snippet.name
            assert snippet.language == "python", f"{snippet.name}: markers are for python"
    for page in CLUSTER_PAGES:
        assert [s for s in ALL if s.page == page and s.kind == "nodes"], f"{page}: no nodes"


def test_fragments_are_few() -> None:
    """Most blocks are whole programs; a fragment is the exception."""
    fragments = [snippet for snippet in PYTHON if snippet.kind == "fragment"]
    assert len(fragments) <= len(PYTHON) // 3, [snippet.name for snippet in fragments]


@pytest.mark.parametrize("snippet", FRAGMENTS, ids=lambda snippet: snippet.name)
def test_every_block_that_is_not_run_alone_is_still_python(snippet: Snippet) -> None:
    compile(snippet.code, snippet.name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


# Sections being rewritten by changes in flight elsewhere (issue 8), where this change
# may not add a marker: their blocks are compiled, and run once the section is theirs.
SECTIONS_ELSEWHERE: dict[tuple[str, str], str] = {}


@pytest.mark.parametrize("snippet", PROGRAMS, ids=lambda snippet: snippet.name)
def test_every_python_block_runs(snippet: Snippet, scratch: Path) -> None:
    owner = SECTIONS_ELSEWHERE.get((str(snippet.page.relative_to(ROOT)), snippet.section))
    if owner is not None:
        compile(snippet.code, snippet.name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        pytest.skip(f"section {snippet.section!r} belongs to {owner}: make it run, or mark it")
    run_program(snippet, scratch, {})


# -- a page's cluster: real `ember node` processes ------------------------------------------


def command_of(line: str, ports: dict[str, int]) -> tuple[dict[str, str], list[str]]:
    """The environment and argv of one ``nodes`` line (``VAR=value ... .venv/bin/ember ...``)."""
    words = shlex.split(with_free_ports(line, ports), comments=True)
    if words and words[-1] == "&":
        words.pop()
    env = dict(os.environ)
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        variable, _, value = words.pop(0).partition("=")
        if variable == "PYTHONPATH" and value != "." and (ROOT / value).is_dir():
            value = str(ROOT / value)  # a folder of the repository (examples): as from a clone
        env[variable] = os.pathsep.join([value, env.get(variable, "")])
    assert words[:1] in ([".venv/bin/ember"], ["ember"]), f"not an ember command: {line}"
    return env, [sys.executable, "-m", "ember", *words[1:]]


@pytest.mark.parametrize("page", CLUSTER_PAGES, ids=lambda page: page.name)
def test_cluster_blocks_run_against_real_nodes(page: Path, scratch: Path) -> None:
    ports: dict[str, int] = {}
    (nodes,) = [s for s in ALL if s.page == page and s.kind == "nodes"]
    lines = [line for line in nodes.code.splitlines() if line.strip()]
    started: list[subprocess.Popen[str]] = []
    names: list[str] = []
    nodes_env: dict[str, str] | None = None
    try:
        for line in lines:
            env, argv = command_of(line, ports)
            if argv[3] != "node":
                continue
            nodes_env = nodes_env or env
            process = subprocess.Popen(
                argv, cwd=scratch, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                text=True,
            )  # fmt: skip
            started.append(process)
            assert process.stdout is not None
            listening = process.stdout.readline()  # bounded by the test's timeout
            assert " listening on " in listening, f"{line!r} did not start: {listening!r}"
            names.append(listening.split()[2])
        for line in lines:
            env, argv = command_of(line, ports)
            if argv[3] == "status":
                done = subprocess.run(
                    argv, cwd=scratch, env=env, capture_output=True, text=True, timeout=60,
                    check=False,
                )  # fmt: skip
                assert done.returncode == 0, f"{line!r}: {done.stderr}"
                listed = {row.split()[0] for row in done.stdout.splitlines()[1:]}
                assert listed == set(names), done.stdout
        for snippet in (s for s in ALL if s.page == page and s.kind == "cluster"):
            run_program(snippet, scratch, ports, nodes_env)
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
        statuses = [process.wait(timeout=30) for process in started]
        for process in started:
            assert process.stdout is not None
            process.stdout.close()
    assert statuses == [0] * len(started)  # each left the cluster gracefully


# -- what the docs point at exists ---------------------------------------------------------

LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")
CITED_PATH = re.compile(r"(?<![\w/.-])(?P<path>(?:src|examples|tests|docs|bench)/[\w./-]*[\w/])")


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    in_code, found = False, set()
    for line in page.read_text().splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            found.add(slug(line.lstrip("#")))
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_link_leads_to_a_file_and_heading_that_exist(page: Path) -> None:
    for match in LINK.finditer(page.read_text()):
        target = match["target"]
        if re.match(r"[a-z]+:", target):
            continue  # a URL
        path_text, _, anchor = target.partition("#")
        path = (page.parent / path_text).resolve() if path_text else page
        assert path.exists(), f"{page.name}: the link {target!r} leads nowhere"
        if anchor:
            assert anchor in anchors(path), f"{page.name}: no heading #{anchor} in {path.name}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_path_a_page_cites_exists(page: Path) -> None:
    for match in CITED_PATH.finditer(page.read_text()):
        assert (ROOT / match["path"]).exists(), f"{page.name} cites {match['path']}"


# Files that still cite documents outside the repository, owned by changes in flight
# elsewhere (issue 8): fix the citation there, then remove the entry here.
ELSEWHERE: set[str] = set()
CITED_DOCUMENT = re.compile(r"(?<![\w/.-])(?P<path>[\w./-]*\w\.md)\b")


def citing_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "Makefile", ROOT / "pyproject.toml"]
    files += sorted((ROOT / "docs").glob("*.md"))
    for folder in ("src", "examples", "bench"):
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


def cited_documents_missing(path: Path) -> list[str]:
    """The ``*.md`` documents ``path`` cites that are not in the repository."""
    missing = []
    for match in CITED_DOCUMENT.finditer(path.read_text()):
        cited = match["path"].removeprefix("./")
        places = (path.parent / cited, ROOT / cited, ROOT / "docs" / cited)
        if not any(place.is_file() for place in places):
            missing.append(cited)
    return missing


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(
            path,
            marks=pytest.mark.xfail(
                str(path.relative_to(ROOT)) in ELSEWHERE,
                reason="cites a document outside the repository; its owner fixes it",
                strict=True,
            ),
            id=str(path.relative_to(ROOT)),
        )
        for path in citing_files()
    ],
)
def test_docs_and_docstrings_cite_only_documents_in_the_repository(path: Path) -> None:
    assert cited_documents_missing(path) == []
