"""Renders the application icon from its SVG sources into what each OS wants.

    .venv/bin/python resources/icons/render_icons.py

Sources, drawn by hand:
  orders-sync.svg        the icon (used for 48 px and up)
  orders-sync-small.svg  the same picture on a 32-unit grid for 16 and 32 px: edges on
                         whole pixels at 16 px, a bigger badge, thicker arrows
  orders-sync-24.svg     the small picture again on a 24-unit grid, for 24 px

Writes, next to this file:
  orders-sync-{16,24,32,48,64,128,256,512}.png   the window icon (qt/app.py) and Linux
  orders-sync.ico    Windows: 16-256 px; BMP entries below 256 px, PNG at 256 px
  orders-sync.icns   macOS: PNG entries 16-1024 px (512@2x)

Rendering uses Qt's own SVG renderer (QtSvg ships with PySide6-Essentials); the ICO and ICNS
containers are written here (both are a header and a list of images), so no Pillow. The
outputs are committed: building the app does not need to run this.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

HERE = Path(__file__).resolve().parent
NAME = "orders-sync"
SOURCE = HERE / f"{NAME}.svg"
# Small sizes come from drawings fitted to their pixel grid.
FITTED = {16: f"{NAME}-small.svg", 24: f"{NAME}-24.svg", 32: f"{NAME}-small.svg"}
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types holding PNG data, and the pixel size of each.
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"ic11", 32),  # 16@2x
    (b"icp6", 64),
    (b"ic12", 64),  # 32@2x
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic13", 256),  # 128@2x
    (b"ic09", 512),
    (b"ic14", 512),  # 256@2x
    (b"ic10", 1024),  # 512@2x
)


def render(size: int) -> QImage:
    source = HERE / FITTED[size] if size in FITTED else SOURCE
    renderer = QSvgRenderer(str(source))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {source}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise SystemExit("PNG encoding failed")
    buffer.close()
    return bytes(data.data())


def rgba_rows(image: QImage) -> list[bytes]:
    """Rows of straight (not premultiplied) RGBA bytes, top row first."""
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    width, stride = rgba.width(), rgba.bytesPerLine()
    raw = bytes(rgba.constBits())
    return [raw[y * stride : y * stride + 4 * width] for y in range(rgba.height())]


def ico_bmp(image: QImage) -> bytes:
    """A 32-bit DIB as ICO stores it: header, BGRA rows bottom-up, then the 1-bit AND mask."""
    size = image.width()
    rows = rgba_rows(image)
    xor = bytearray()
    for row in reversed(rows):
        for x in range(0, len(row), 4):
            r, g, b, a = row[x : x + 4]
            xor += bytes((b, g, r, a))
    mask_stride = ((size + 31) // 32) * 4
    mask = bytearray()
    for row in reversed(rows):
        line = bytearray(mask_stride)
        for x in range(size):
            if row[4 * x + 3] == 0:  # fully transparent pixel
                line[x // 8] |= 0x80 >> (x % 8)
        mask += line
    header = struct.pack(
        "<IiiHHIIiiII", 40, size, 2 * size, 1, 32, 0, len(xor) + len(mask), 0, 0, 0, 0
    )
    return header + bytes(xor) + bytes(mask)


def ico(images: dict[int, QImage]) -> bytes:
    entries = [(s, png_bytes(images[s]) if s >= 256 else ico_bmp(images[s])) for s in ICO_SIZES]
    offset = 6 + 16 * len(entries)
    out = bytearray(struct.pack("<HHH", 0, 1, len(entries)))
    for size, data in entries:
        dim = 0 if size >= 256 else size  # 0 means 256
        out += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    for _, data in entries:
        out += data
    return bytes(out)


def icns(pngs: dict[int, bytes]) -> bytes:
    body = b"".join(
        kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # kept alive while rendering
    sizes = sorted(set(PNG_SIZES) | set(ICO_SIZES) | {s for _, s in ICNS_TYPES})
    images = {size: render(size) for size in sizes}
    pngs = {size: png_bytes(image) for size, image in images.items()}
    written = []
    for size in PNG_SIZES:
        path = HERE / f"{NAME}-{size}.png"
        path.write_bytes(pngs[size])
        written.append(path)
    ico_path = HERE / f"{NAME}.ico"
    ico_path.write_bytes(ico(images))
    icns_path = HERE / f"{NAME}.icns"
    icns_path.write_bytes(icns(pngs))
    written += [ico_path, icns_path]
    for path in written:
        print(f"{path.relative_to(HERE.parent.parent)}  {path.stat().st_size:>8} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
