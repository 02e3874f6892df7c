# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Compressed DICOMs read as the same pixels as the uncompressed file, in
prep (its reader and its conversion job) and in inference.

The compressed files are written by pydicom's own encoders: RLE Lossless
(pydicom's) and JPEG 2000 Lossless (pylibjpeg-openjpeg). pydicom encodes
JPEG-LS only with pyjpegls (not a requirement), so JPEG-LS lossless decoding
is checked on pydicom's bundled pair of files.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cxr_mmdet.data_prep.image_io import (ConversionJob, convert_image,
                                          read_dicom_uint8, read_image_size,
                                          read_image_uint8)
from cxr_mmdet.testing import write_dicom

#: transfer syntaxes written and read back
SYNTAXES = ('RLELossless', 'JPEG2000Lossless')


def _pixels() -> np.ndarray:
    """A 12-bit radiograph-like frame: gradient, noise and a bright disc."""
    rng = np.random.default_rng(5)
    h, w = 90, 120
    yy, xx = np.mgrid[:h, :w]
    pixels = 400 + 10 * xx + rng.integers(0, 200, (h, w))
    pixels[(yy - 45)**2 + (xx - 60)**2 < 300] = 4000
    return pixels.astype(np.uint16)


def _compressed_copy(src: Path, dst: Path, syntax: str) -> Path:
    import pydicom
    from pydicom import uid
    from pydicom.pixels import get_encoder
    transfer_syntax = getattr(uid, syntax)
    encoder = get_encoder(transfer_syntax)
    assert encoder.is_available, encoder.missing_dependencies
    ds = pydicom.dcmread(src)
    ds.compress(transfer_syntax)
    ds.save_as(dst, enforce_file_format=True)
    assert pydicom.dcmread(dst).file_meta.TransferSyntaxUID == \
        transfer_syntax
    assert dst.stat().st_size < src.stat().st_size  # really compressed
    return dst


@pytest.fixture(scope='module')
def uncompressed(tmp_path_factory) -> Path:
    return write_dicom(
        tmp_path_factory.mktemp('dicom') / 'plain.dcm',
        _pixels(),
        photometric='MONOCHROME1',
        window=(2000.0, 3000.0))


@pytest.mark.parametrize('syntax', SYNTAXES)
def test_compressed_dicom_reads_as_the_uncompressed_file(
        syntax, uncompressed, tmp_path):
    import pydicom
    path = _compressed_copy(uncompressed, tmp_path / f'{syntax}.dcm', syntax)
    raw = pydicom.dcmread(path).pixel_array
    np.testing.assert_array_equal(raw, _pixels())  # lossless
    expected = read_dicom_uint8(uncompressed)
    assert expected.std() > 10  # a real image, not a constant
    np.testing.assert_array_equal(read_dicom_uint8(path), expected)
    np.testing.assert_array_equal(read_image_uint8(path), expected)
    assert read_image_size(path) == (120, 90)


@pytest.mark.parametrize('syntax', SYNTAXES)
def test_prep_and_infer_read_compressed_dicom_alike(syntax, uncompressed,
                                                    tmp_path):
    from cxr_mmdet.apis.inference import prepare_input
    path = _compressed_copy(uncompressed, tmp_path / f'{syntax}.dcm', syntax)
    # prep's conversion job: the same PNG from either file
    pngs = []
    for src in (uncompressed, path):
        dst = tmp_path / f'{Path(src).stem}.png'
        result = convert_image(
            ConversionJob('x', str(src), str(dst), 64, (120, 90)))
        assert result.error is None, result.error
        with Image.open(dst) as im:
            pngs.append(np.asarray(im))
    np.testing.assert_array_equal(pngs[0], pngs[1])
    # inference's input: the same array from either file
    plain, w0, h0 = prepare_input(str(uncompressed), 64)
    packed, w1, h1 = prepare_input(str(path), 64)
    assert (w0, h0) == (w1, h1) == (120, 90)
    np.testing.assert_array_equal(plain, packed)
    np.testing.assert_array_equal(plain[..., 0], pngs[0])


def test_jpeg_ls_lossless_decodes_to_the_uncompressed_pixels():
    """pydicom has no JPEG-LS encoder of its own; its bundled pair of one
    MR image, uncompressed and JPEG-LS lossless, checks the decoder
    (pylibjpeg-libjpeg)."""
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.uid import JPEGLSLossless
    plain = get_testdata_file('MR_small.dcm')
    packed = get_testdata_file('MR_small_jpeg_ls_lossless.dcm')
    assert pydicom.dcmread(packed).file_meta.TransferSyntaxUID == \
        JPEGLSLossless
    expected = read_dicom_uint8(plain)
    assert expected.std() > 10
    np.testing.assert_array_equal(read_image_uint8(packed), expected)
