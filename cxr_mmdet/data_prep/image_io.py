# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Find, measure, read and convert the source images.

PNG and JPEG are read with Pillow; DICOM (``.dicom``/``.dcm``, or any file
with the ``DICM`` magic) with pydicom: the VOI LUT (window) is applied,
``MONOCHROME1`` is inverted so that bone is bright, and the result is
min-max scaled to 8 bits. 16-bit PNGs are min-max scaled too. Output images
are 8-bit grayscale PNGs.
"""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .tables import IMAGE_EXTENSIONS, strip_image_extension

DICOM_EXTENSIONS: tuple[str, ...] = ('.dicom', '.dcm')


class ImageIndex:
    """Look up image files by name inside one folder (recursively).

    ``find(name)`` tries ``folder/name``, then ``folder/<stem><ext>`` for
    each known extension, and only then builds (once) an index of the whole
    tree by file name and by stem, so NIH's nested ``images_001/images/``
    layout works too. Names must already be safe (see
    :func:`~cxr_mmdet.data_prep.tables.is_safe_image_id`).
    """

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ValueError(f'image folder does not exist: '
                             f'{os.fspath(folder)!r}')
        self._by_name: dict[str, Path] | None = None
        self._by_stem: dict[str, Path] | None = None

    def _build(self) -> None:
        by_name: dict[str, Path] = {}
        by_stem: dict[str, Path] = {}
        for root, dirs, files in os.walk(self.folder):
            dirs.sort()
            for f in sorted(files):
                if not f.lower().endswith(IMAGE_EXTENSIONS):
                    continue
                path = Path(root, f)
                by_name.setdefault(f, path)
                by_stem.setdefault(strip_image_extension(f), path)
        self._by_name, self._by_stem = by_name, by_stem

    def find(self, name: str) -> Path | None:
        """Return the file for ``name`` (a file name or an id), or None."""
        direct = self.folder / name
        if direct.is_file():
            return direct
        stem = strip_image_extension(name)
        for ext in IMAGE_EXTENSIONS:
            candidate = self.folder / f'{stem}{ext}'
            if candidate.is_file():
                return candidate
        if self._by_name is None:
            self._build()
        return self._by_name.get(name) or self._by_stem.get(stem)


def is_dicom(path: str | os.PathLike) -> bool:
    """Whether ``path`` is DICOM (by extension, else by the ``DICM`` magic)."""
    if str(path).lower().endswith(DICOM_EXTENSIONS):
        return True
    try:
        with open(path, 'rb') as f:
            head = f.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:] == b'DICM'


def read_image_size(path: str | os.PathLike) -> tuple[int, int]:
    """Return ``(width, height)`` from the file header only.

    Raises:
        ValueError: If the file cannot be read as an image.
    """
    try:
        if is_dicom(path):
            import pydicom
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            return int(ds.Columns), int(ds.Rows)
        with Image.open(path) as img:
            return img.size
    except Exception as err:  # noqa: BLE001 - any decoder error
        raise ValueError(f'{os.fspath(path)}: cannot read image header: '
                         f'{type(err).__name__}: {err}') from err


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """Min-max scale an array to ``uint8`` (a constant image becomes 0).

    >>> to_uint8(np.array([[0, 2], [4, 8]], dtype=np.uint16)).tolist()
    [[0, 64], [128, 255]]
    """
    pixels = np.asarray(pixels, dtype=np.float64)
    low, high = float(pixels.min()), float(pixels.max())
    if high <= low:
        return np.zeros(pixels.shape, dtype=np.uint8)
    return np.rint((pixels - low) * (255.0 / (high - low))).astype(np.uint8)


def _apply_voi_lut(pixels: np.ndarray, ds) -> np.ndarray:
    try:
        from pydicom.pixels import apply_voi_lut
    except ImportError:  # pydicom < 3
        from pydicom.pixel_data_handlers.util import apply_voi_lut
    return apply_voi_lut(pixels, ds)


def read_dicom_uint8(path: str | os.PathLike) -> np.ndarray:
    """Read a DICOM radiograph as an 8-bit grayscale array ``(H, W)``.

    Applies the VOI LUT (or window centre/width), inverts ``MONOCHROME1``
    and min-max scales to 8 bits.
    """
    import pydicom
    ds = pydicom.dcmread(path)
    pixels = ds.pixel_array
    if pixels.ndim != 2:
        raise ValueError(f'{os.fspath(path)}: expected one grayscale frame, '
                         f'got pixel array of shape {pixels.shape!r}')
    pixels = _apply_voi_lut(pixels, ds).astype(np.float64)
    if str(ds.get('PhotometricInterpretation', '')) == 'MONOCHROME1':
        pixels = pixels.max() - pixels
    return to_uint8(pixels)


def read_image_uint8(path: str | os.PathLike) -> np.ndarray:
    """Read any supported image as an 8-bit grayscale array ``(H, W)``.

    Raises:
        ValueError: naming the file, if it cannot be decoded (empty,
            truncated, not an image, DICOM without pixel data, ...).
    """
    try:
        if is_dicom(path):
            return read_dicom_uint8(path)
        with Image.open(path) as img:
            if img.mode in ('I;16', 'I;16B', 'I;16L', 'I', 'F'):
                return to_uint8(np.asarray(img))
            return np.asarray(img.convert('L'))
    except Exception as err:  # noqa: BLE001 - any decoder error
        if isinstance(err, ValueError) and os.fspath(path) in str(err):
            raise
        raise ValueError(f'{os.fspath(path)}: cannot read image: '
                         f'{type(err).__name__}: {err}') from err


def resize_to_square(pixels: np.ndarray, size: int) -> np.ndarray:
    """Resize an 8-bit image ``(H, W)`` to ``(size, size)`` (0 keeps it).

    Pillow's bilinear filter, antialiased when shrinking (its support
    grows with the scale), after an integer box reduction while the image
    is over 3x the target. Prep writes its PNGs with this, and
    ``tools/infer.py`` resizes its inputs with it, so both see the same
    pixels.
    """
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    if size <= 0 or pixels.shape[:2] == (size, size):
        return pixels
    img = Image.fromarray(pixels).resize((size, size),
                                         Image.Resampling.BILINEAR,
                                         reducing_gap=3.0)
    return np.asarray(img)


@dataclass(frozen=True)
class ConversionJob:
    """Convert ``src`` to an 8-bit PNG ``dst`` of ``size x size`` (0 keeps).

    ``expected_size`` is the ``(width, height)`` the boxes were checked
    against; a file that turns out to differ is an error.
    """
    image_id: str
    src: str
    dst: str
    size: int
    expected_size: tuple[int, int] | None = None


@dataclass(frozen=True)
class ConversionResult:
    """Outcome of one :class:`ConversionJob`; ``error`` is None on success."""
    image_id: str
    width: int = 0
    height: int = 0
    out_width: int = 0
    out_height: int = 0
    error: str | None = None


def convert_image(job: ConversionJob) -> ConversionResult:
    """Run one job; errors are returned, not raised (so a pool goes on)."""
    try:
        pixels = read_image_uint8(job.src)
        height, width = pixels.shape
        if job.expected_size is not None and tuple(
                job.expected_size) != (width, height):
            raise ValueError(f'pixel size {(width, height)!r} differs from '
                             f'header size {tuple(job.expected_size)!r}')
        img = Image.fromarray(resize_to_square(pixels, job.size))
        img.save(job.dst, format='PNG')
        return ConversionResult(job.image_id, width, height, img.width,
                                img.height)
    except Exception as err:  # noqa: BLE001 - reported per image
        return ConversionResult(
            job.image_id, error=f'{type(err).__name__}: {err}')


PR_SET_PDEATHSIG = 1


def _exit_with_parent(parent_pid: int) -> None:
    """Pool worker initializer: die with the process that made the pool.

    On Linux the kernel sends SIGKILL to the worker when its parent dies
    (``prctl(PR_SET_PDEATHSIG)``), so a prep killed with SIGKILL leaves no
    worker blocked on its queue. A parent that died before the call is
    caught by comparing the parent pid. Elsewhere this does nothing.
    """
    import ctypes
    import signal
    import sys
    if not sys.platform.startswith('linux'):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:
        os._exit(1)


def _pool_context():
    """Fork where available: no re-import of the (torch-heavy) package."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context('fork' if 'fork' in
                                       methods else 'spawn')


def convert_images(jobs: Sequence[ConversionJob],
                   workers: int = 1,
                   progress: bool = True) -> list[ConversionResult]:
    """Convert images in ``workers`` processes with a progress bar.

    Returns:
        list[ConversionResult]: One result per job, in job order.
    """
    if workers < 1:
        raise ValueError(f'workers must be >= 1, got {workers!r}')
    from tqdm import tqdm
    bar = dict(total=len(jobs), desc='images', unit='img', disable=not
               progress)
    if workers == 1 or len(jobs) <= 1:
        return [convert_image(j) for j in tqdm(jobs, **bar)]
    chunk = max(1, min(16, len(jobs) // (workers * 8)))
    with ProcessPoolExecutor(
            workers,
            mp_context=_pool_context(),
            initializer=_exit_with_parent,
            initargs=(os.getpid(), )) as pool:
        results: Iterable[ConversionResult] = pool.map(
            convert_image, jobs, chunksize=chunk)
        return list(tqdm(results, **bar))
