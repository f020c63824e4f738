"""Print the size of each function's bootstrap as built by `sam build`, raw and zipped.

The zipped size is what Lambda downloads on a cold start (deployment package limit: 50 MB zipped).
Usage: bootstrap_sizes.py [BUILD_DIR]  (default infra/.aws-sam/build)
"""

import io
import pathlib
import sys
import zipfile


def zipped_size(path: pathlib.Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(path, arcname="bootstrap")
    return buffer.tell()


def main() -> None:
    build_dir = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "infra/.aws-sam/build")
    found = sorted(build_dir.glob("*/bootstrap"))
    if not found:
        sys.exit(f"bootstrap_sizes: no */bootstrap under {build_dir}")
    for path in found:
        raw = path.stat().st_size
        print(f"{path.parent.name}: bootstrap {raw / 1e6:.2f} MB, zipped {zipped_size(path) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
