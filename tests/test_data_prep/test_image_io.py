# Copyright (c) cxr_mmdet contributors. All rights reserved.
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cxr_mmdet.data_prep.image_io import (ConversionJob, ImageIndex,
                                          convert_image, convert_images,
                                          is_dicom, read_image_size,
                                          read_image_uint8)

from cxr_mmdet.testing import write_dicom, write_png


def test_png_sizes_and_pixels(tmp_path):
    gray = np.arange(12 * 20, dtype=np.uint8).reshape(12, 20)
    path = write_png(tmp_path / 'a.png', gray)
    assert read_image_size(path) == (20, 12)
    np.testing.assert_array_equal(read_image_uint8(path), gray)
    rgb = np.zeros((4, 5, 3), np.uint8)
    rgb[..., 0] = 255
    path = write_png(tmp_path / 'rgb.png', rgb)
    assert read_image_uint8(path).shape == (4, 5)


def test_16bit_png_scaled_to_8bit(tmp_path):
    pixels = np.array([[0, 1000], [2000, 4000]], dtype=np.uint16)
    path = write_png(tmp_path / 'deep.png', pixels)
    out = read_image_uint8(path)
    assert out.dtype == np.uint8
    assert out.tolist() == [[0, 64], [128, 255]]


def test_dicom_monochrome1_voi_lut_inverted(tmp_path):
    raw = np.array([[0, 900, 1000], [1100, 2000, 4000]], dtype=np.uint16)
    path = write_dicom(tmp_path / 'x.dicom', raw, 'MONOCHROME1',
                       window=(1000, 200))
    assert is_dicom(path)
    assert read_image_size(path) == (3, 2)
    out = read_image_uint8(path)
    # window 900..1100: below -> white after inversion, above -> black
    assert out[0, 0] == out[0, 1] == 255
    assert out[1, 1] == out[1, 2] == 0
    assert 100 < out[0, 2] < 155  # the window centre stays mid-grey
    assert out[1, 0] < 5
    # MONOCHROME2 is not inverted
    path2 = write_dicom(tmp_path / 'y.dcm', raw, 'MONOCHROME2',
                        window=(1000, 200))
    np.testing.assert_array_equal(read_image_uint8(path2), 255 - out)


def test_dicom_found_by_magic_without_extension(tmp_path):
    raw = np.full((4, 6), 7, dtype=np.uint16)
    path = write_dicom(tmp_path / 'noext', raw, 'MONOCHROME2')
    assert is_dicom(path)
    assert read_image_size(path) == (6, 4)


def test_unreadable_image_reports_error(tmp_path):
    bad = tmp_path / 'bad.png'
    bad.write_bytes(b'not an image')
    with pytest.raises(ValueError, match='bad.png'):
        read_image_size(bad)
    result = convert_image(
        ConversionJob('bad', str(bad), str(tmp_path / 'out.png'), 8))
    assert result.error is not None and 'bad' == result.image_id
    assert not (tmp_path / 'out.png').exists()


def test_image_index_direct_extension_and_nested(tmp_path):
    write_png(tmp_path / 'a.png', np.zeros((2, 2), np.uint8))
    write_dicom(tmp_path / 'b.dicom', np.zeros((2, 2), np.uint16))
    write_png(tmp_path / 'images_001' / 'images' / 'c.png',
              np.zeros((2, 2), np.uint8))
    index = ImageIndex(tmp_path)
    assert index.find('a.png') == tmp_path / 'a.png'
    assert index.find('b') == tmp_path / 'b.dicom'
    assert index.find('c.png') == tmp_path / 'images_001' / 'images' / 'c.png'
    assert index.find('d.png') is None
    with pytest.raises(ValueError, match='does not exist'):
        ImageIndex(tmp_path / 'nope')


def test_convert_resizes_and_checks_size(tmp_path):
    src = write_png(tmp_path / 'a.png',
                    np.linspace(0, 255, 40 * 30).reshape(30, 40).astype(
                        np.uint8))
    dst = tmp_path / 'out' / 'a.png'
    dst.parent.mkdir()
    result = convert_image(ConversionJob('a', str(src), str(dst), 16,
                                         (40, 30)))
    assert result.error is None
    assert (result.width, result.height) == (40, 30)
    assert (result.out_width, result.out_height) == (16, 16)
    with Image.open(dst) as img:
        assert img.size == (16, 16) and img.mode == 'L'
    keep = convert_image(ConversionJob('a', str(src), str(dst), 0))
    assert (keep.out_width, keep.out_height) == (40, 30)
    wrong = convert_image(ConversionJob('a', str(src), str(dst), 16,
                                        (41, 30)))
    assert 'differs' in wrong.error


def test_convert_images_two_workers_same_as_one(tmp_path):
    rng = np.random.default_rng(0)
    jobs1, jobs2 = [], []
    for i in range(6):
        src = write_png(tmp_path / 'src' / f'{i}.png',
                        rng.integers(0, 255, (20, 24), dtype=np.uint8))
        for jobs, folder in ((jobs1, 'one'), (jobs2, 'two')):
            (tmp_path / folder).mkdir(exist_ok=True)
            jobs.append(
                ConversionJob(str(i), str(src),
                              str(tmp_path / folder / f'{i}.png'), 10))
    jobs2.append(ConversionJob('missing', str(tmp_path / 'nope.png'),
                               str(tmp_path / 'two' / 'nope.png'), 10))
    one = convert_images(jobs1, workers=1, progress=False)
    two = convert_images(jobs2, workers=2, progress=False)
    assert [r.image_id for r in two] == [j.image_id for j in jobs2]
    assert two[:-1] == one and two[-1].error is not None
    for i in range(6):
        a = np.asarray(Image.open(tmp_path / 'one' / f'{i}.png'))
        b = np.asarray(Image.open(tmp_path / 'two' / f'{i}.png'))
        np.testing.assert_array_equal(a, b)
