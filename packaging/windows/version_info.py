"""The Windows version resource of the built executables (Explorer's Details tab, the
installer's version check), made from the one version in pyproject.toml.

build.spec writes it with `write_version_file` and hands the file to each EXE; PyInstaller
reads it on Windows and ignores it elsewhere. Pure Python, no PyInstaller import, so a test
checks it on any machine.
"""

from __future__ import annotations

import re
from pathlib import Path

COMPANY = "orders-sync"
PRODUCT = "orders-sync"


def version_tuple(version: str) -> tuple[int, int, int, int]:
    """Windows wants four numbers: "0.1.0" -> (0, 1, 0, 0); a pre-release or local part
    ("1.2.0rc1", "1.2.0+abc") keeps its release numbers only."""
    release = re.match(r"\d+(?:\.\d+)*", version.strip())
    if release is None:
        raise ValueError(f"version {version!r} does not start with a number")
    numbers = [int(n) for n in release.group(0).split(".")][:4]
    if any(n > 0xFFFF for n in numbers):
        raise ValueError(f"version {version!r}: Windows allows numbers up to 65535")
    return tuple(numbers + [0] * (4 - len(numbers)))  # type: ignore[return-value]


def version_text(version: str, *, exe_name: str, description: str) -> str:
    """PyInstaller's version file (the text of a VSVersionInfo) for one executable."""
    numbers = version_tuple(version)
    strings = {
        "CompanyName": COMPANY,
        "FileDescription": description,
        "FileVersion": version,
        "InternalName": exe_name,
        "LegalCopyright": "",
        "OriginalFilename": f"{exe_name}.exe",
        "ProductName": PRODUCT,
        "ProductVersion": version,
    }
    table = ",\n".join(f"          StringStruct({k!r}, {v!r})" for k, v in strings.items())
    return f"""VSVersionInfo(
  ffi=FixedFileInfo(
    filevers={numbers},
    prodvers={numbers},
    mask=0x3f,
    flags=0x0,
    OS=0x40004,
    fileType=0x1,
    subtype=0x0,
    date=(0, 0),
  ),
  kids=[
    StringFileInfo(
      [
        StringTable(
          '040904B0',
          [
{table},
          ],
        )
      ]
    ),
    VarFileInfo([VarStruct('Translation', [1033, 1200])]),
  ],
)
"""


def write_version_file(directory: Path, version: str, *, exe_name: str, description: str) -> str:
    """Write `<exe_name>-version.txt` in `directory`; its path, for EXE(version=...)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{exe_name}-version.txt"
    path.write_text(version_text(version, exe_name=exe_name, description=description), "utf-8")
    return str(path)
