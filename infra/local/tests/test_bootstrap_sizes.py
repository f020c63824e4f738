"""bootstrap_sizes.py refuses a build whose bootstrap Lambda could not run for its function."""

import pathlib
import shutil
import struct
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "bootstrap_sizes.py"
TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Architectures: [arm64]
Resources:
  ApiFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ApiFunction
"""


def elf(machine: int, e_type: int = 3) -> bytes:
    """A 64-bit little-endian ELF header without program headers."""
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    rest = struct.pack("<HHIQQQIHHHHHH", e_type, machine, 1, 0, 64, 0, 0, 64, 56, 0, 64, 0, 0)
    return ident + rest


def build_dir(tmp_path, content: bytes, mode: int = 0o755) -> pathlib.Path:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    function = tmp_path / "ApiFunction"
    function.mkdir()
    bootstrap = function / "bootstrap"
    bootstrap.write_bytes(content)
    bootstrap.chmod(mode)
    return tmp_path


def run(directory):
    return subprocess.run([sys.executable, str(SCRIPT), str(directory)], capture_output=True, text=True)


def test_an_aarch64_executable_is_sized(tmp_path):
    done = run(build_dir(tmp_path, elf(183)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ApiFunction: bootstrap AArch64 ELF executable, interpreter static, ")
    assert "zipped" in done.stdout


def test_an_x86_64_binary_for_an_arm64_function_is_refused(tmp_path):
    done = run(build_dir(tmp_path, elf(62)))
    assert done.returncode != 0
    assert "ApiFunction" in done.stderr and "not AArch64 (183)" in done.stderr


def test_a_bootstrap_without_execute_permission_is_refused(tmp_path):
    done = run(build_dir(tmp_path, elf(183), mode=0o644))
    assert done.returncode != 0
    assert "not executable" in done.stderr


def test_a_missing_bootstrap_is_refused(tmp_path):
    directory = build_dir(tmp_path, elf(183))
    shutil.rmtree(directory / "ApiFunction")
    done = run(directory)
    assert done.returncode != 0
    assert "ApiFunction" in done.stderr and "missing" in done.stderr
