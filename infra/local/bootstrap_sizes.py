"""Check each function's bootstrap as built by `sam build`, then print its size, raw and zipped.

Every function of the built template must have its bootstrap: an executable ELF file for the
function's architecture (arm64: AArch64, x86_64: x86-64), as Lambda's provided.al2023 runtime
runs it. The interpreter printed is the dynamic loader it needs (glibc's, from the runtime).
The zipped size is what Lambda downloads on a cold start (deployment package limit: 50 MB zipped).
Usage: bootstrap_sizes.py [BUILD_DIR]  (default infra/.aws-sam/build)
"""

import io
import os
import pathlib
import struct
import sys
import zipfile

from samtranslator.yaml_helper import yaml_parse

# ELF header fields (System V gABI, "ELF Header" and "Program Header").
ELF_MAGIC = b"\x7fELF"
ELFCLASS64 = 2
ELFDATA2LSB = 1
ET_EXEC, ET_DYN = 2, 3
PT_INTERP = 3
MACHINES = {"arm64": (183, "AArch64"), "x86_64": (62, "x86-64")}


def zipped_size(path: pathlib.Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(path, arcname="bootstrap")
    return buffer.tell()


def functions(build_dir: pathlib.Path) -> dict[str, tuple[pathlib.Path, str]]:
    """Logical id -> (bootstrap path, architecture) from the built template."""
    template = yaml_parse((build_dir / "template.yaml").read_text(encoding="utf-8"))
    default = template.get("Globals", {}).get("Function", {}).get("Architectures", ["x86_64"])
    found = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        (architecture,) = props.get("Architectures", default)
        found[name] = (build_dir / props["CodeUri"] / "bootstrap", architecture)
    return found


def elf_problem(path: pathlib.Path, architecture: str) -> str | None:
    """Why `path` is not an executable 64-bit little-endian ELF for `architecture`, or None."""
    if not path.is_file():
        return "missing"
    if not os.access(path, os.X_OK):
        return "not executable (mode)"
    data = path.read_bytes()
    if data[:4] != ELF_MAGIC or data[4] != ELFCLASS64 or data[5] != ELFDATA2LSB:
        return "not a 64-bit little-endian ELF file"
    e_type, e_machine = struct.unpack_from("<HH", data, 16)
    machine, machine_name = MACHINES[architecture]
    if e_machine != machine:
        return f"ELF machine {e_machine}, not {machine_name} ({machine})"
    if e_type not in (ET_EXEC, ET_DYN):
        return f"ELF type {e_type}, not an executable"
    return None


def interpreter(data: bytes) -> str:
    """The PT_INTERP path, or "static" when there is none."""
    e_phoff, = struct.unpack_from("<Q", data, 32)
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 54)
    for index in range(e_phnum):
        p_type, _flags, p_offset, _vaddr, _paddr, p_filesz = struct.unpack_from(
            "<IIQQQQ", data, e_phoff + index * e_phentsize
        )
        if p_type == PT_INTERP:
            return data[p_offset : p_offset + p_filesz].rstrip(b"\0").decode()
    return "static"


def main() -> None:
    build_dir = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "infra/.aws-sam/build")
    if not (build_dir / "template.yaml").is_file():
        sys.exit(f"bootstrap_sizes: no built template under {build_dir}: run sam build")
    failed = False
    for name, (path, architecture) in sorted(functions(build_dir).items()):
        problem = elf_problem(path, architecture)
        if problem:
            print(f"{name}: {path}: {problem}", file=sys.stderr)
            failed = True
            continue
        raw = path.stat().st_size
        print(
            f"{name}: bootstrap {MACHINES[architecture][1]} ELF executable, "
            f"interpreter {interpreter(path.read_bytes())}, "
            f"{raw / 1e6:.2f} MB, zipped {zipped_size(path) / 1e6:.2f} MB"
        )
    if failed:
        sys.exit("bootstrap_sizes: a bootstrap is not what Lambda runs for its function")


if __name__ == "__main__":
    main()
