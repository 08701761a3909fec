"""deploy/venv.sh (the virtualenv step of `make setup`) against deliberately broken virtualenvs
in a scratch folder: each is detected, said in one line, and rebuilt into a working one; a
folder that is not a virtualenv is never deleted. Real `python -m venv` and pip, on a scratch
project with no dependencies."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from truyvet.settings import ROOT

SCRIPT = ROOT / "deploy" / "venv.sh"
PYTHON = shutil.which("python3") or sys.executable


def _project(tmp: Path) -> Path:
    proj = tmp / "proj"
    (proj / "scratch_pkg").mkdir(parents=True)
    (proj / "scratch_pkg" / "__init__.py").write_text("ANSWER = 42\n")
    (proj / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "scratch-pkg"\nversion = "0"\n\n'
        '[project.optional-dependencies]\ntest = []\n\n'
        '[tool.setuptools]\npackages = ["scratch_pkg"]\n')
    return proj


def _setup(venv: Path, proj: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON": PYTHON, "TRUYVET_SETUP_LOGS": str(proj / "logs")}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(["bash", str(SCRIPT), str(venv), str(proj)], env=env, text=True,
                          capture_output=True, timeout=300)


def _works(venv: Path) -> bool:
    try:
        done = subprocess.run([str(venv / "bin" / "python"), "-c",
                               "import scratch_pkg, pip; assert scratch_pkg.ANSWER == 42"],
                              capture_output=True, timeout=60)
    except FileNotFoundError:  # bin/python missing or pointing nowhere
        return False
    return done.returncode == 0


def _half_made(venv: Path) -> None:  # `python3 -m venv` without python3-venv: no pip
    subprocess.run([PYTHON, "-m", "venv", "--without-pip", str(venv)], check=True)


def _python_gone(venv: Path) -> None:  # the interpreter it pointed to was removed
    subprocess.run([PYTHON, "-m", "venv", "--without-pip", str(venv)], check=True)
    for name in ("python", "python3"):
        (venv / "bin" / name).unlink()
        (venv / "bin" / name).symlink_to(venv / "no-such-python")


def _other_python(venv: Path) -> None:
    """Made by another Python: its pyvenv.cfg names that one's folder and version (its
    bin/python still starts: the same interpreter by another path)."""
    subprocess.run([PYTHON, "-m", "venv", "--without-pip", str(venv)], check=True)
    cfg = venv / "pyvenv.cfg"
    cfg.write_text("".join(
        "home = /opt/python3.12/bin\n" if line.startswith("home") else
        "version = 3.12.1\n" if line.startswith("version") else line
        for line in cfg.read_text().splitlines(keepends=True)))


BROKEN: dict[str, tuple[Callable[[Path], None], str]] = {
    "half-made, no pip": (_half_made, "no working pip"),
    "its Python is gone": (_python_gone, "does not start"),
    "made with another Python": (_other_python, "another Python"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_virtualenv_is_rebuilt(tmp_path: Path, case: str) -> None:
    proj = _project(tmp_path)
    venv = tmp_path / ".venv"
    breaks, why = BROKEN[case]
    breaks(venv)
    marker = venv / "left-by-the-broken-one"
    marker.write_text("x")
    assert not _works(venv)

    done = _setup(venv, proj)
    assert done.returncode == 0, done.stderr
    assert f"rebuilding {venv}: " in done.stderr and why in done.stderr, done.stderr
    assert not marker.exists()  # rebuilt, not patched
    assert _works(venv)
    again = _setup(venv, proj)  # and the second run leaves it as it is
    assert again.returncode == 0 and again.stderr == "", again.stderr


def test_an_interrupted_install_is_finished_and_a_good_one_kept(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    venv = tmp_path / ".venv"
    assert _setup(venv, proj).returncode == 0
    marker = venv / "kept"
    marker.write_text("x")
    (venv / ".truyvet-installed").unlink()  # as pip killed half-way leaves it: no stamp
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "uninstall", "-y", "-q",
                    "scratch-pkg"], check=True)
    done = _setup(venv, proj)
    assert done.returncode == 0, done.stderr
    assert "rebuilding" not in done.stderr and "installing scratch-pkg" in done.stderr
    assert marker.exists() and _works(venv)


def test_a_folder_that_is_not_a_virtualenv_is_never_deleted(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    venv = tmp_path / ".venv"
    venv.mkdir()
    (venv / "notes.txt").write_text("mine")
    done = _setup(venv, proj)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "is not a virtualenv" in lines[0] and f"mv {venv}" in lines[0]
    assert (venv / "notes.txt").read_text() == "mine"


INSTALL = ROOT / "deploy" / "debian" / "install.sh"


def _installed(package: str) -> bool:
    done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True,
                          text=True)
    return "install ok installed" in done.stdout


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv")
                    or not os.access("/usr/bin/python3", os.X_OK),
                    reason="needs root, to run the script as another user, and Debian's python3")
def test_not_root_it_names_every_missing_package_with_the_command(tmp_path: Path) -> None:
    """As a user who cannot install, on a machine with none of the tools (a PATH without
    them, a Debian python3 without ensurepip): one line naming each package, and the
    command that installs them all."""
    scratch = Path(tempfile.mkdtemp(prefix="truyvet-setup-"))  # readable by the other user
    try:
        scratch.chmod(0o755)
        bin_dir = scratch / "bin"
        bin_dir.mkdir()
        for tool in ("bash", "dpkg-query", "grep", "awk", "id", "dirname", "cat", "tail"):
            (bin_dir / tool).symlink_to(shutil.which(tool))  # type: ignore[arg-type]
        # Debian's python3 without python3-venv: everything but ensurepip
        fake = bin_dir / "python3"
        fake.write_text('#!/bin/sh\n[ "$1 $2" = "-m ensurepip" ] && exit 1\nexec /usr/bin/python3 "$@"\n')
        fake.chmod(0o755)
        env = {"PATH": str(bin_dir), "HOME": str(scratch), "TRUYVET_CACHE_DIR": str(scratch),
               "TRUYVET_SETUP_LOGS": str(scratch / "logs")}
        done = subprocess.run([shutil.which("setpriv") or "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                               str(bin_dir / "bash"), str(INSTALL)], env=env, text=True,
                              capture_output=True, timeout=60)
    finally:
        shutil.rmtree(scratch)
    expected = ["python3-venv", "openjdk-17-jre-headless", "maven", "redis-server", "chromium"]
    expected += [] if _installed("fonts-noto-core") else ["fonts-noto-core"]
    expected += ["openssl", "cargo"]  # HOME has no ~/.cargo either
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "; install them with: " in lines[0], done.stderr
    named, command = lines[0].split("; install them with: ")
    assert named == f"setup: missing Debian packages: {' '.join(expected)}"
    assert command == f"sudo apt-get install -y --no-install-recommends {' '.join(expected)}"
