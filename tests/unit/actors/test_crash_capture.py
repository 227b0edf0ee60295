"""A ``Crash``'s traceback: taken when the actor crashes, made into text when first read.

Most crashes are restarted and never shown, so the runtime keeps what the text is
made of and formats it on first read. These tests hold that to the contract: the
text is the one Python prints (less the column carets), whenever it is read, after
the crashed frames are gone and after the source file changed on disk; the crash
keeps no frame (so no local variable) alive; equality, hashing, pickling,
``dataclasses`` and the wire see a crash as they always did.
"""

from __future__ import annotations

import copy
import dataclasses
import gc
import importlib.util
import linecache
import pickle
import traceback
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ember
from ember.actors import _reasons
from ember.cluster import TermCodec, TypeRegistry
from ember.testing import Probe


class Oops(Exception):
    """Not a builtin: its module shows in the text."""


def raise_plain() -> None:
    raise ValueError("plain")


def raise_from() -> None:
    try:
        raise_plain()
    except ValueError as error:
        raise Oops("wrapped") from error


def raise_during() -> None:
    try:
        raise_from()
    except Oops:
        raise KeyError("while handling")  # noqa: B904 - the implicit context is the point


def raise_suppressed() -> None:
    try:
        raise_plain()
    except ValueError:
        raise RuntimeError("context suppressed") from None


def raise_empty_message() -> None:
    raise RuntimeError


SHAPES: list[Callable[[], None]] = [
    raise_plain,
    raise_from,
    raise_during,
    raise_suppressed,
    raise_empty_message,
]


def python_prints(error: BaseException) -> str:
    """What Python prints for ``error`` and its chain, less the column-caret lines."""
    text = "".join(traceback.format_exception(error))
    lines = text.splitlines(keepends=True)
    return "".join(line for line in lines if not _carets_only(line))


def _carets_only(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and set(stripped) <= {"^", "~"}


def captured(shape: Callable[[], None]) -> tuple[ember.Crash, str]:
    """A crash of ``shape`` and the text Python printed for it at the time."""
    try:
        shape()
    except Exception as error:
        return ember.Crash.from_exception(error), python_prints(error)
    raise AssertionError("the shape did not raise")


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.__name__)
def test_traceback_read_later_is_the_text_python_prints(shape: Callable[[], None]) -> None:
    crash, printed = captured(shape)
    gc.collect()  # the frames of the raise are gone
    assert crash.traceback == printed


def test_an_exception_never_raised_has_only_its_last_line() -> None:
    crash = ember.Crash.from_exception(Oops("not raised"))
    assert crash.traceback == f"{__name__}.Oops: not raised\n"


def test_text_is_made_once_and_only_when_read(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    original = _reasons._TracebackParts.format

    def counting(parts: Any) -> str:
        text = original(parts)
        made.append(text)
        return text

    monkeypatch.setattr(_reasons._TracebackParts, "format", counting)
    crash, _ = captured(raise_from)
    assert made == []  # capturing a crash formats nothing
    first = crash.traceback
    assert crash.traceback is first
    assert made == [first]


def test_the_crash_keeps_no_frame_alive() -> None:
    kept: list[weakref.ref[Any]] = []

    class Local:
        pass

    def handler() -> None:
        state = Local()  # a local of the crashed frame
        kept.append(weakref.ref(state))
        raise ValueError("bye")

    crash, printed = captured(handler)
    gc.collect()
    assert kept[0]() is None
    assert crash.traceback == printed


def test_source_lines_are_those_of_the_crash_not_of_a_later_edit(tmp_path: Path) -> None:
    path = tmp_path / "edited_module.py"
    path.write_text("def fail():\n    raise ValueError('as it was')\n")
    spec = importlib.util.spec_from_file_location("edited_module", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    crash, printed = captured(module.fail)
    path.write_text("def fail():\n    raise ValueError('edited since; a longer line')\n")
    linecache.checkcache(str(path))  # linecache now reads the edited file
    assert "raise ValueError('as it was')" in crash.traceback
    assert crash.traceback == printed


def test_a_lazy_crash_equals_hashes_and_copies_as_its_text() -> None:
    crash, printed = captured(raise_from)
    eager = ember.Crash("Oops", "wrapped", printed)
    assert crash == eager
    assert hash(crash) == hash(eager)
    assert repr(crash) == "Crash('Oops', 'wrapped')"
    assert str(crash) == "Oops: wrapped"
    assert pickle.loads(pickle.dumps(captured(raise_from)[0])) == eager
    assert copy.copy(captured(raise_from)[0]) == eager
    assert dataclasses.replace(captured(raise_from)[0], message="m").traceback == printed
    assert dataclasses.asdict(captured(raise_from)[0])["traceback"] == printed
    assert [field.name for field in dataclasses.fields(crash)] == [
        "type_name",
        "message",
        "traceback",
    ]
    match captured(raise_from)[0]:
        case ember.Crash("Oops", "wrapped", text):
            assert text == printed
        case _:
            pytest.fail("a Crash matches by position")


def test_a_crash_stays_frozen() -> None:
    crash, _ = captured(raise_plain)
    with pytest.raises(dataclasses.FrozenInstanceError):
        crash.traceback = "changed"  # type: ignore[misc]


def no_refs(node: str, incarnation: int, actor_id: int) -> ember.ActorRef:
    raise AssertionError("a crash carries no ref")


def test_a_lazy_crash_crosses_the_wire_as_its_text() -> None:
    codec = TermCodec(TypeRegistry(), no_refs, node="a")
    crash, printed = captured(raise_from)
    decoded = codec.decode(codec.encode(crash))
    assert type(decoded) is ember.Crash
    assert decoded == ember.Crash("Oops", "wrapped", printed)


class Crashes(ember.Actor):
    async def handle_cast(self, message: Any) -> None:
        secret = {"held": "by the handler's frame"}
        raise LookupError(f"lost {message} {len(secret)}")


async def test_a_crash_read_after_the_actor_is_gone(node: ember.Node) -> None:
    probe = await Probe.start(node)
    ref = await node.spawn(Crashes)
    probe.monitor(ref)
    ref.cast("it")
    down = await probe.receive(ember.Down)
    gc.collect()
    text = down.reason.traceback
    assert text.startswith("Traceback (most recent call last):\n")
    assert "in handle_cast\n    raise LookupError(" in text
    assert text.endswith("LookupError: lost it 1\n")
    [report] = [r for r in node.reports.recent() if r.event == "crash"]
    assert text.rstrip() in report.text
