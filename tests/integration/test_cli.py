"""The `ancv-sandbox` command's offline parts: fixtures and seal."""

import json
from importlib.util import find_spec

from sandbox.cli import main


def test_fixtures_prints_the_demo_world_as_json(capsys):
    assert main(["fixtures", "--seed", "42"]) == 0
    world = json.loads(capsys.readouterr().out)
    assert world["pointsOfSale"] and world["serviceProviders"] and world["beneficiaries"]
    assert main(["fixtures", "--seed", "42"]) == 0
    assert json.loads(capsys.readouterr().out) == world


def test_fixtures_refuses_a_missing_database(capsys, tmp_path):
    assert main(["fixtures", "--db", str(tmp_path / "none.sqlite3")]) == 2
    assert "no database" in capsys.readouterr().err


def test_serve_with_a_message_queue_refuses_a_virtual_clock_and_an_unreachable_queue(capsys):
    """Checked before anything starts (threading stack: nothing is patched for gevent here)."""
    serve = ["serve", "--server", "threading", "--db", ":memory:", "--no-sftp"]
    assert main([*serve, "--clock", "virtual", "--message-queue", "redis://127.0.0.1:1/0"]) == 2
    assert "needs --clock wall" in capsys.readouterr().err
    assert main([*serve, "--message-queue", "redis://127.0.0.1:1/0"]) == 2
    expected = "cannot reach redis://127.0.0.1:1/0" if find_spec("redis") else "pip install -e '.[scaleout]'"
    assert expected in capsys.readouterr().err


def test_seal_prints_the_kit_test_vector_header(capsys):
    """Kit §6.7."""
    assert main(["seal", "--key", "663768ff68ad8ea6768bbf65163e9b0a", "--key-version", "v1",
                 "10000065", "100016", "panier-33455", "42556", "500"]) == 0
    assert capsys.readouterr().out.strip() == "HmacSHA256.v1.mfy6VhbdyiErpfvQ3AvnKwU39W_ae9MfuaVurEg-KjE"


def test_the_readme_curl_example_matches_the_default_seed(capsys):
    """The README's first call must keep working on a fresh `./dev serve` (seed 42)."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    key, version, shop = re.search(r"seal --key (\w+) \\\s+--key-version ([\w-]+) (\d+)", readme).groups()
    assert main(["fixtures", "--seed", "42"]) == 0
    world = json.loads(capsys.readouterr().out)
    assert {"shopId": int(shop), "keyVersion": version, "key": key}.items() <= next(
        p for p in world["pointsOfSale"] if p["shopId"] == int(shop)).items()


def test_serve_patches_for_gevent_before_anything_loads_ssl() -> None:
    """The whole command line is built before `serve` patches the standard library: its options must not load ssl."""
    import subprocess
    import sys

    probe = ("import sys; from scenarios.options import add_arguments; "
             "from customer_sim.scanner.options import add_arguments; print('ssl' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def test_a_reader_that_stops_reading_ends_the_command_quietly() -> None:
    """`ancv-sandbox simulate --list | head -3` printed a BrokenPipeError traceback: the pipe closed before
    the listing was written (here, before the command started) must end it with status 1 and nothing on stderr."""
    import subprocess
    import sys

    for command in (["simulate", "--list"], ["fixtures", "--seed", "42"]):
        child = subprocess.Popen([sys.executable, "-c", "import sys; from sandbox.cli import main; sys.exit(main())",
                                  *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert child.stdout is not None and child.stderr is not None
        child.stdout.close()  # the reader is gone before anything is printed
        err = child.stderr.read().decode()
        assert child.wait(timeout=60) == 1, err
        assert err == "", err
