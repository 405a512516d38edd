"""Scan files as scanners write them, one page at a time (a 1000-page stack never sits in memory).

- PDF: one image per page at the scan's DPI: JPEG (DCTDecode) for colour and grey, CCITT G4 for black and
  white, like scanner PDFs. Written by a small streaming writer of our own: Pillow's PDF writer wants all
  pages up front (or re-reads the whole file to append one).
- TIFF: multi-page, G4 for black and white, JPEG-in-TIFF for grey/colour (LZW of a noisy scan is as big
  as the raw pixels), via Pillow's AppendingTiffWriter.
- JPEG / PNG: one file per page, numbered after the stack, with the DPI in the file.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

import numpy as np
from PIL import Image, TiffImagePlugin

from samples.profiles import ColourMode

Format = Literal["pdf", "tiff", "jpeg", "png"]
FORMATS: tuple[Format, ...] = ("pdf", "tiff", "jpeg", "png")
SUFFIX = {"pdf": ".pdf", "tiff": ".tif", "jpeg": ".jpg", "png": ".png"}


def to_pil(img: np.ndarray, mode: ColourMode) -> Image.Image:
    if mode == "bilevel":
        return Image.fromarray(img > 127)          # mode "1"
    return Image.fromarray(img, "RGB" if img.ndim == 3 else "L")


def g4_strip(im: Image.Image) -> bytes:
    """CCITT G4 data of a mode-"1" image, as one strip (what a PDF /CCITTFaxDecode stream holds)."""
    buf = io.BytesIO()
    im.save(buf, "TIFF", compression="group4", strip_size=(im.width + 7) // 8 * im.height)
    tif = TiffImagePlugin.TiffImageFile(io.BytesIO(buf.getvalue()))
    offsets, counts = tif.tag_v2[273], tif.tag_v2[279]
    if len(offsets) != 1:
        raise RuntimeError("expected a single G4 strip")
    data = buf.getvalue()
    return data[offsets[0]:offsets[0] + counts[0]]


class StackWriter(Protocol):
    def add(self, img: np.ndarray, dpi: int, mode: ColourMode, quality: int) -> str:
        """Write one page; returns the file (relative to the output folder) that holds it."""
        ...

    def close(self) -> None: ...


class PdfWriter:
    """A minimal streaming PDF: objects written as pages arrive; the page tree and xref at close."""

    def __init__(self, out_dir: Path, name: str) -> None:
        self.rel = name + SUFFIX["pdf"]
        self.f: BinaryIO = (out_dir / self.rel).open("wb")
        self.f.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        self.offsets: dict[int, int] = {}
        self.page_ids: list[int] = []
        self.next_id = 3                      # 1: catalog, 2: page tree (written last)

    def _obj(self, num: int, body: bytes, stream: bytes | None = None) -> None:
        self.offsets[num] = self.f.tell()
        self.f.write(f"{num} 0 obj\n".encode() + body)
        if stream is not None:
            self.f.write(b"\nstream\n" + stream + b"\nendstream")
        self.f.write(b"\nendobj\n")

    def add(self, img: np.ndarray, dpi: int, mode: ColourMode, quality: int) -> str:
        im = to_pil(img, mode)
        w, h = im.size
        if mode == "bilevel":
            data = g4_strip(im)
            head = (f"/Filter [/CCITTFaxDecode] /DecodeParms [<< /K -1 /BlackIs1 true /Columns {w} /Rows {h} >>] "
                    f"/BitsPerComponent 1 /ColorSpace /DeviceGray")
        else:
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=quality, dpi=(dpi, dpi))
            data = buf.getvalue()
            cs = "/DeviceRGB" if im.mode == "RGB" else "/DeviceGray"
            head = f"/Filter /DCTDecode /BitsPerComponent 8 /ColorSpace {cs}"
        img_id, content_id, page_id = self.next_id, self.next_id + 1, self.next_id + 2
        self.next_id += 3
        self._obj(img_id, f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} {head} /Length {len(data)} >>".encode(),
                  data)
        pw, ph = w * 72 / dpi, h * 72 / dpi
        content = f"q {pw:.4f} 0 0 {ph:.4f} 0 0 cm /Im0 Do Q".encode()
        self._obj(content_id, f"<< /Length {len(content)} >>".encode(), content)
        self._obj(page_id, (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {pw:.4f} {ph:.4f}] "
                            f"/Resources << /XObject << /Im0 {img_id} 0 R >> >> /Contents {content_id} 0 R >>").encode())
        self.page_ids.append(page_id)
        return self.rel

    def close(self) -> None:
        kids = " ".join(f"{i} 0 R" for i in self.page_ids)
        self._obj(2, f"<< /Type /Pages /Kids [{kids}] /Count {len(self.page_ids)} >>".encode())
        self._obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        xref = self.f.tell()
        n = self.next_id
        self.f.write(f"xref\n0 {n}\n0000000000 65535 f \n".encode())
        for i in range(1, n):
            self.f.write(f"{self.offsets[i]:010d} 00000 n \n".encode())
        self.f.write(f"trailer\n<< /Size {n} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
        self.f.close()


class TiffWriter:
    def __init__(self, out_dir: Path, name: str) -> None:
        self.rel = name + SUFFIX["tiff"]
        self.tf = TiffImagePlugin.AppendingTiffWriter(str(out_dir / self.rel), new=True)

    def add(self, img: np.ndarray, dpi: int, mode: ColourMode, quality: int) -> str:
        im = to_pil(img, mode)
        if mode == "bilevel":
            im.save(self.tf, "TIFF", compression="group4", dpi=(dpi, dpi))
        else:
            # colour as YCbCr: libtiff then subsamples chroma like a JPEG file does (RGB-in-TIFF is ~2.5x bigger)
            im = im.convert("YCbCr") if im.mode == "RGB" else im
            im.save(self.tf, "TIFF", compression="jpeg", quality=quality, dpi=(dpi, dpi))
        self.tf.newFrame()
        return self.rel

    def close(self) -> None:
        self.tf.close()


class ImageWriter:
    """Scanners that write images write one file per page, numbered: <stack>-0001.jpg, <stack>-0002.jpg, ...
    (flat in the output folder, like a scanner's drop folder)."""

    def __init__(self, out_dir: Path, name: str, fmt: Format) -> None:
        self.out_dir, self.name, self.fmt = out_dir, name, fmt
        self.count = 0

    def add(self, img: np.ndarray, dpi: int, mode: ColourMode, quality: int) -> str:
        self.count += 1
        rel = f"{self.name}-{self.count:04d}{SUFFIX[self.fmt]}"
        if self.fmt == "jpeg":
            # a JPEG cannot be black and white: scanners save such jobs as grey
            im = Image.fromarray(img, "RGB" if img.ndim == 3 else "L")
            im.save(self.out_dir / rel, "JPEG", quality=quality, dpi=(dpi, dpi))
        else:
            to_pil(img, mode).save(self.out_dir / rel, "PNG", dpi=(dpi, dpi), optimize=False)
        return rel

    def close(self) -> None:
        pass


def open_writer(fmt: Format, out_dir: Path, name: str) -> StackWriter:
    if fmt == "pdf":
        return PdfWriter(out_dir, name)
    if fmt == "tiff":
        return TiffWriter(out_dir, name)
    return ImageWriter(out_dir, name, fmt)
