"""The ``ember`` command fails well: every expected error is one line, in command-line terms.

Each test runs the real command (``python -m ember ...``) and checks its exit
status (docs/operations.md has the table) and its stderr: one line,
``ember: error: ...``, that says what is wrong and which option or command to
use instead, and no traceback unless ``--debug`` asks for one. Arguments are
checked before anything binds: a refused ``ember node`` never prints its
listening line.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from command_line import HERE, assert_one_line_error, ember, environment, free_port

from ember.cluster import write_keys

# -- addresses and seeds (issue 8, finding 5) --------------------------------------------


@pytest.mark.parametrize(
    ("listen", "says"),
    [
        ("tcp://127.0.0.1", r"listen address 'tcp://127\.0\.0\.1' has no port: give tcp://HOST"),
        ("tcp://127.0.0.1:99999", r"port '99999' .* is not a port number from 0 to 65535"),
        ("tcp://127.0.0.1:{port}x", r"port '\d+x' .* is not a port number"),
        ("127.0.0.1:{port}", r"is not valid: give tcp://HOST:PORT or ipc://PATH"),
    ],
)
def test_a_malformed_listen_address_is_refused_before_the_node_listens(
    listen: str, says: str
) -> None:
    done = ember("node", "--name", "a", "--listen", listen.format(port=free_port()))
    assert_one_line_error(done, says)
    assert done.stdout == ""


def test_a_listen_address_beyond_loopback_without_keys_names_the_keys_option() -> None:
    done = ember("node", "--name", "a", "--listen", "tcp://192.0.2.1:7100")
    assert_one_line_error(done, r"--listen tcp://192\.0\.2\.1:7100 is not a loopback .* --keys DIR")
    assert "security=" not in done.stderr


@pytest.mark.parametrize(
    ("seed", "says"),
    [
        ("foo", r"seed 'foo' is not valid: give ADDRESS \(tcp://HOST:PORT or ipc://PATH\)"),
        ("tcp://127.0.0.1", "seed 'tcp://127.0.0.1' has no port"),
        ("b@", "has no address after '@'"),
        ("tcp://192.0.2.1:7100", r"--seed tcp://192\.0\.2\.1:7100 is not a loopback .* --keys"),
    ],
)
def test_a_bad_seed_is_refused_before_the_node_listens(seed: str, says: str) -> None:
    listen = f"tcp://127.0.0.1:{free_port()}"
    done = ember("node", "--name", "a", "--listen", listen, "--seed", seed)
    assert_one_line_error(done, says)
    assert done.stdout == ""  # it never listened


def test_a_node_seeded_only_at_itself_is_refused_at_once() -> None:
    listen = f"tcp://127.0.0.1:{free_port()}"
    done = ember("node", "--name", "a", "--listen", listen, "--seed", listen, timeout=15)
    assert_one_line_error(done, r"node 'a' is seeded only at itself.*another member")
    assert done.stdout == ""


def test_a_node_named_like_its_only_seed_is_refused_at_once(tmp_path: Path) -> None:
    seed = f"a@ipc://{tmp_path}/other.sock"
    done = ember("node", "--name", "a", "--listen", f"ipc://{tmp_path}/a.sock", "--seed", seed)
    assert_one_line_error(done, rf"seed '{seed}' names this node")


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--timeout", "-1", r"argument --timeout: '-1' is not a number of seconds > 0"),
        ("--timeout", "0", "is not a number of seconds > 0"),
        ("--settle", "-1", "argument --settle: '-1' is not a number of seconds >= 0"),
        ("--settle", "soon", "'soon' is not a number of seconds"),
    ],
)
def test_status_refuses_a_number_of_seconds_that_is_not_one(
    option: str, value: str, says: str
) -> None:
    done = ember("status", "--seed", f"tcp://127.0.0.1:{free_port()}", option, value)
    assert_one_line_error(done, says)


# -- one line per expected error, in command-line terms (finding 6) ---------------------


def test_an_address_in_use_is_one_line_that_suggests_another_port() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = ember("node", "--name", "a", "--listen", f"tcp://127.0.0.1:{port}")
    assert_one_line_error(
        done,
        rf"cannot listen on tcp://127\.0\.0\.1:{port}: Address already in use: .* "
        r"give --listen another port \(0: any free port\)",
    )


def test_an_ipc_path_in_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    listen = f"ipc://{tmp_path}/missing/a.sock"
    done = ember("node", "--name", "a", "--listen", listen)
    assert_one_line_error(done, r"cannot listen on .*: the folder of the ipc path must exist")


def test_an_app_whose_module_is_missing_says_how_to_make_it_importable(tmp_path: Path) -> None:
    listen = f"ipc://{tmp_path}/a.sock"
    done = ember("node", "--name", "a", "--listen", listen, "--app", "nosuch:Game")
    assert_one_line_error(done, r"--app nosuch:Game: .*No module named 'nosuch'.*PYTHONPATH=DIR")
    assert done.stdout == ""


def test_an_app_that_is_not_an_application_says_what_app_takes(tmp_path: Path) -> None:
    done = ember(
        "node", "--name", "a", "--listen", f"ipc://{tmp_path}/a.sock",
        "--app", "process_actors:Counter", env=environment([HERE]),
    )  # fmt: skip
    assert_one_line_error(
        done, r"--app process_actors:Counter is not an ember\.Application: --app takes an"
    )


def test_an_app_module_that_raises_is_one_line_and_debug_shows_where(tmp_path: Path) -> None:
    (tmp_path / "broken_app.py").write_text("raise RuntimeError('boom at import')\n")
    command = ("node", "--name", "a", "--listen", f"ipc://{tmp_path}/a.sock")
    command += ("--app", "broken_app:Game")
    done = ember(*command, env=environment([tmp_path]))
    assert_one_line_error(done, r"importing its module raised RuntimeError: boom at import")
    assert "--debug" in done.stderr

    debugged = ember("--debug", *command, env=environment([tmp_path]))
    assert debugged.returncode == 1
    assert 'broken_app.py", line 1' in debugged.stderr
    assert debugged.stderr.splitlines()[-1] == done.stderr.strip()


def test_a_bad_log_level_is_a_one_line_usage_error(tmp_path: Path) -> None:
    listen = f"ipc://{tmp_path}/a.sock"
    done = ember("node", "--name", "a", "--listen", listen, "--log-level", "LOUD")
    assert_one_line_error(done, r"argument --log-level: 'LOUD' is not a log level: give one of")


def test_a_usage_error_exits_with_status_1_not_argparses_2() -> None:
    done = ember("node", "--listen", "tcp://127.0.0.1:0")
    assert_one_line_error(done, r"the following arguments are required: --name .*--help")


def test_a_node_without_its_key_pair_is_told_to_run_ember_keys(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    write_keys(keys, "a")
    done = ember("node", "--name", "b", "--listen", "tcp://127.0.0.1:0", "--keys", str(keys))
    assert_one_line_error(done, rf"has no key pair for node 'b'.*`ember keys --dir {keys} b`")
    assert "write_keys" not in done.stderr


def test_a_secret_key_others_may_read_is_one_line_that_says_chmod(tmp_path: Path) -> None:
    _, secret = write_keys(tmp_path, "a")
    os.chmod(secret, 0o644)
    done = ember("node", "--name", "a", "--listen", "tcp://127.0.0.1:0", "--keys", str(tmp_path))
    assert_one_line_error(done, rf"has mode 0644.*run `chmod 600 {secret}`")


def test_a_seed_whose_key_is_missing_names_the_file_to_copy(tmp_path: Path) -> None:
    write_keys(tmp_path, "a")
    done = ember(
        "node", "--name", "a", "--listen", "tcp://127.0.0.1:0", "--keys", str(tmp_path),
        "--seed", f"b@tcp://127.0.0.1:{free_port()}",
    )  # fmt: skip
    assert_one_line_error(done, rf"no public key for node 'b'.*copy b\.key .*into {tmp_path}")
    assert "reload()" not in done.stderr
    assert done.stdout == ""


def test_with_keys_an_unnamed_seed_says_name_at_address(tmp_path: Path) -> None:
    write_keys(tmp_path, "a")
    done = ember(
        "node", "--name", "a", "--listen", "tcp://127.0.0.1:0", "--keys", str(tmp_path),
        "--seed", f"tcp://127.0.0.1:{free_port()}",
    )  # fmt: skip
    assert_one_line_error(done, r"with keys, seed .* must be NAME@ADDRESS")


def test_keys_refuses_to_replace_a_key_and_names_force(tmp_path: Path) -> None:
    assert ember("keys", "--dir", str(tmp_path), "a").returncode == 0
    before = (tmp_path / "a.key").read_text()
    done = ember("keys", "--dir", str(tmp_path), "a")
    assert_one_line_error(done, rf"node 'a' already has keys in {tmp_path}: give --force")
    assert "overwrite=True" not in done.stderr
    assert (tmp_path / "a.key").read_text() == before
    assert ember("keys", "--dir", str(tmp_path), "--force", "a").returncode == 0
    assert (tmp_path / "a.key").read_text() != before


def test_keys_in_a_folder_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    done = ember("keys", "--dir", str(tmp_path / "file" / "keys"), "a")
    assert_one_line_error(done, r"cannot write keys in .*/file/keys: Not a directory")


@pytest.mark.parametrize("where", ["before the command", "after the command"])
def test_debug_shows_the_traceback_above_the_one_line(where: str) -> None:
    command = ["node", "--name", "a", "--listen", "tcp://127.0.0.1"]
    command.insert(0 if where == "before the command" else 1, "--debug")
    done = ember(*command)
    assert done.returncode == 1
    assert done.stderr.startswith("Traceback (most recent call last):")
    assert "ember.InvalidArgument: listen address 'tcp://127.0.0.1' has no port" in done.stderr
    assert done.stderr.splitlines()[-1].startswith("ember: error: listen address")


# -- entities: --storage and --entity (issue 9) ----------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["--entity", "tally=entity_kinds:Tally"], r"--entity needs --storage URL"),
        (["--storage", "sqlite:///{tmp}/e.db", "--entity", "tally"], r"give KIND=MODULE:CLASS"),
        (
            ["--storage", "sqlite:///{tmp}/e.db", "--entity", "tally=entity_kinds:Tally,fast"],
            r"'fast' is not an option; give eager, passivate_after=SECONDS \(or never\)",
        ),
        (
            [
                "--storage",
                "sqlite:///{tmp}/e.db",
                "--entity",
                "t=entity_kinds:Tally,max_active=x",
            ],
            r"'max_active=x' is not an option",
        ),
        (
            ["--storage", "sqlite:///{tmp}/e.db", "--entity", "tally=process_actors:Counter"],
            r"--entity tally=process_actors:Counter: .*ember\.Entity",
        ),
        (
            [
                "--storage",
                "sqlite:///{tmp}/e.db",
                "--entity",
                "t=entity_kinds:Tally,max_active=0",
            ],
            r"--entity t: .*max_active",
        ),
        (["--storage", "ftp://db/e"], r"storage URL 'ftp://db/e' is invalid: give sqlite:///"),
    ],
)
def test_bad_entity_options_are_one_line_that_says_what_to_give(
    tmp_path: Path, arguments: list[str], says: str
) -> None:
    listen = f"ipc://{tmp_path}/a.sock"
    arguments = [argument.format(tmp=tmp_path) for argument in arguments]
    env = environment([HERE, HERE.parent])  # process_actors, and entity_kinds
    done = ember("node", "--name", "a", "--listen", listen, *arguments, env=env)
    assert_one_line_error(done, says)
    assert done.stdout == ""


# -- --cpu ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cpus", "says"),
    [
        ("x", r"--cpu x: give CPU numbers and ranges, as 1, 0,2 or 0-3 \(this machine: "),
        ("1-0", r"--cpu 1-0: give CPU numbers and ranges"),
        ("-1", r"--cpu -1: give CPU numbers and ranges"),
        ("4096", r"--cpu 4096: CPU 4096 is not one this process may run on; give some of "),
    ],
)
def test_a_bad_cpu_list_is_refused_before_the_node_listens(cpus: str, says: str) -> None:
    listen = f"tcp://127.0.0.1:{free_port()}"
    done = ember("node", "--name", "a", "--listen", listen, "--cpu", cpus)
    assert_one_line_error(done, says)
    assert done.stdout == ""


def test_a_node_given_a_cpu_runs_every_thread_there() -> None:
    cpu = max(os.sched_getaffinity(0))
    listen = f"tcp://127.0.0.1:{free_port()}"
    command = [sys.executable, "-m", "ember", "node", "--name", "a", "--listen", listen]
    process = subprocess.Popen(
        [*command, "--cpu", str(cpu)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("ember node a listening on ")
        tasks = Path(f"/proc/{process.pid}/task")
        allowed = {
            thread.name: (thread / "status").read_text().split("Cpus_allowed_list:")[1].split()[0]
            for thread in tasks.iterdir()
        }
        assert len(allowed) >= 2  # the loop's thread and ZeroMQ's I/O thread, at least
        assert set(allowed.values()) == {str(cpu)}, allowed
    finally:
        process.terminate()
        status = process.wait(timeout=20)
        assert process.stdout is not None
        process.stdout.close()
    assert status == 0
