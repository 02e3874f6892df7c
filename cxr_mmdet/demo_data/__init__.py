# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Demo data: real NIH/VinBig annotation rows on synthetic radiographs."""
from .demo_dataset import (DEMO_MIN_BOX_SIZE, MANIFEST_NAME, format_counts,
                           make_demo_dataset, write_dicom)
from .sample_rows import (DemoImage, read_nih_bbox_list, read_vinbig_table,
                          sample_demo_images)
from .radiographs import (LESION_STYLES, Lesion, merge_reader_boxes,
                          paint_lesions, render_anatomy, render_radiograph,
                          to_dicom_pixels, to_uint8)

__all__ = [
    'DEMO_MIN_BOX_SIZE', 'MANIFEST_NAME', 'format_counts', 'make_demo_dataset',
    'write_dicom', 'DemoImage',
    'read_nih_bbox_list', 'read_vinbig_table',
    'sample_demo_images', 'LESION_STYLES', 'Lesion', 'merge_reader_boxes',
    'paint_lesions', 'render_anatomy', 'render_radiograph', 'to_dicom_pixels',
    'to_uint8'
]
