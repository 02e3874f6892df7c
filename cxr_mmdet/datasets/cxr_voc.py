# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Pascal VOC style dataset of the six chest X-ray classes."""
from __future__ import annotations

import os.path as osp
from collections import Counter

import numpy as np
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from mmengine.fileio import get_local_path, list_from_file
from mmengine.logging import print_log

from mmdet.datasets import XMLDataset
from mmdet.registry import DATASETS
from ..classes import CXR_CLASSES, CXR_PALETTE, SOURCE_DATABASES


class AnnotationError(ValueError):
    """An annotation file that cannot be read as the dataset expects."""


def _safe_relative(name: str, xml_path: str) -> str:
    """Check that ``<filename>`` names a file inside the image folder."""
    norm = osp.normpath(name)
    if (not name or osp.isabs(name) or norm.startswith('..')
            or '\\' in name):
        raise AnnotationError(
            f'{xml_path}: <filename> must be a relative path inside the '
            f'image folder, got {name!r}')
    return norm


def _text(node, tag: str, xml_path: str) -> str:
    child = node.find(tag)
    if child is None or child.text is None or not child.text.strip():
        raise AnnotationError(f'{xml_path}: missing <{tag}>')
    return child.text.strip()


def _number(node, tag: str, xml_path: str) -> float:
    value = _text(node, tag, xml_path)
    try:
        number = float(value)
    except ValueError:
        raise AnnotationError(
            f'{xml_path}: <{tag}> is not a number, got {value!r}') from None
    if not np.isfinite(number):
        raise AnnotationError(f'{xml_path}: <{tag}> is not finite, '
                              f'got {value!r}')
    return number


def parse_voc_xml(xml_path: str,
                  local_path: str | None = None) -> dict:
    """Parse one VOC annotation file safely and exactly.

    Entity expansion and external entities are refused (``defusedxml``).
    Box corners are returned as floats in mmdet's 0-based pixel frame:
    the VOC files store 1-based coordinates (``x_voc = x + 1`` for all four
    corners, as ``cxr_mmdet.data_prep`` writes them), so 1 is subtracted
    from each corner and nothing is rounded.

    Args:
        xml_path: the path named in error messages.
        local_path: where to read it from (defaults to ``xml_path``).

    Returns:
        dict: ``filename`` (str or None), ``width``/``height`` (int or None)
        and ``objects``: list of dicts with ``name``, ``bbox`` (x1, y1, x2,
        y2 floats) and ``difficult`` (0/1); ``image_labels``: the class
        names of ``<image_labels>`` (None when the element is absent);
        ``source``: ``'nih'`` or ``'vinbig'`` for a ``<source><database>``
        of :data:`~cxr_mmdet.classes.SOURCE_DATABASES`, else that text
        (None without the element); ``group``: ``<source><group>`` (None
        without it).
    """
    try:
        root = SafeET.parse(local_path or xml_path).getroot()
    except DefusedXmlException as e:
        raise AnnotationError(
            f'{xml_path}: refused unsafe XML ({type(e).__name__})') from e
    except SafeET.ParseError as e:
        raise AnnotationError(f'{xml_path}: malformed XML ({e})') from e
    filename = root.findtext('filename')
    if filename is not None:
        filename = _safe_relative(filename.strip(), xml_path)
    size = root.find('size')
    width = height = None
    if size is not None:
        width = int(_number(size, 'width', xml_path))
        height = int(_number(size, 'height', xml_path))
    objects = []
    for obj in root.findall('object'):
        name = _text(obj, 'name', xml_path)
        difficult = obj.findtext('difficult')
        difficult = int(difficult) if difficult and difficult.strip() else 0
        box = obj.find('bndbox')
        if box is None:
            raise AnnotationError(f'{xml_path}: object {name!r} has no '
                                  '<bndbox>')
        x1, y1, x2, y2 = (
            _number(box, tag, xml_path) - 1.0
            for tag in ('xmin', 'ymin', 'xmax', 'ymax'))
        if not (x2 > x1 and y2 > y1):
            raise AnnotationError(
                f'{xml_path}: object {name!r} has an empty or inverted box '
                f'{[x1 + 1, y1 + 1, x2 + 1, y2 + 1]!r}')
        objects.append(
            dict(name=name, bbox=[x1, y1, x2, y2], difficult=difficult))
    image_labels = None
    labels_node = root.find('image_labels')
    if labels_node is not None:
        image_labels = []
        for node in labels_node.findall('name'):
            if node.text is None or not node.text.strip():
                raise AnnotationError(
                    f'{xml_path}: empty <name> in <image_labels>')
            image_labels.append(node.text.strip())
    database = root.findtext('source/database')
    sources = {name: key for key, name in SOURCE_DATABASES.items()}
    source = None if database is None else sources.get(
        database.strip(), database.strip())
    group = root.findtext('source/group')
    return dict(
        filename=filename,
        width=width,
        height=height,
        objects=objects,
        image_labels=image_labels,
        source=source or None,
        group=group.strip() if group and group.strip() else None)


def check_image_size(img_path: str, xml_path: str, width: int,
                     height: int) -> None:
    """Check that the image header agrees with the XML ``<size>``.

    Pillow opens the file lazily and reads only its header. A file that
    cannot be opened is left to the loading transform (which skips or
    names it); a size that differs would put every box in the wrong frame.

    Raises:
        AnnotationError: naming both files and both sizes.
    """
    from PIL import Image
    try:
        with Image.open(img_path) as img:
            actual = img.size
    except Exception:  # noqa: BLE001 - unreadable: the loader reports it
        return
    if actual != (width, height):
        raise AnnotationError(
            f'{xml_path}: <size> is {width} x {height} but the image '
            f'{img_path!r} is {actual[0]} x {actual[1]}; its boxes would be '
            'in the wrong frame. Re-run the preparation, or fix <size> and '
            'the boxes together')


@DATASETS.register_module()
class CXRVOCDataset(XMLDataset):
    """Chest X-ray detection dataset in Pascal VOC layout.

    It differs from mmdet's ``XMLDataset``/``VOCDataset`` where those break
    on this data:

    - the image file is the XML ``<filename>`` (PNG), not ``{id}.jpg``;
    - box corners stay floats (1-based VOC -> 0-based, no truncation);
    - an object of an unknown class raises (``unknown_class='error'``) or
      is counted and reported (``'warn'``), never dropped silently;
    - each sample carries ``img_labels``, the image's 0/1 class vector
      (all zeros for a negative image), for image-level ROC metrics: the
      classes of the XML's ``<image_labels>`` (data prep writes every
      class the image is labelled with, e.g. NIH ``Finding Labels``) OR
      those of its boxes; from the boxes alone without the element;
    - each sample carries ``ignored_labels``, the sorted class indices
      labelled in the image but without a box of that class: metrics
      ignore detections of such a class in that image (neither TP nor
      FP). Training has no such ignore: mmdet's SSD loss treats every
      anchor without a matching box as background, so in training such a
      class is background in that image (the boxes are all the detector
      learns from);
    - ``metainfo`` names the six classes, and no ``dataset_type`` of
      ``VOC2007`` is set, so ``VOCMetric`` prints these names;
    - each data info carries ``source`` (``'nih'``, ``'vinbig'``; else
      ``'unknown'``) and ``group`` (``<source><group>``, the NIH patient or
      VinBig image data prep writes; without it ``image:<img_id>``, every
      image its own group): the units of per-source results and of the
      evaluation's bootstrap;
    - XML is parsed with ``defusedxml`` (no entity expansion, no XXE);
    - an image listed but absent from disk is skipped with a warning and
      counted in ``missing_images``; at training time, an image that fails
      to decode is replaced by another sample (see ``CXRLoadImageFromFile``);
    - an image set that yields no image (empty file, or every image
      missing), a box more than ``BOX_TOLERANCE`` pixels outside its
      image and an image whose header size differs from ``<size>`` are
      errors naming the file.

    ``filter_cfg=dict(filter_empty_gt=True)`` drops negatives in training
    only; in ``test_mode`` every image is kept.

    Args:
        unknown_class (str): ``'error'`` or ``'warn'``.
        check_images (bool): Skip listed images whose file is missing and
            check that each image header matches its <size>.
    """

    METAINFO = dict(classes=CXR_CLASSES, palette=CXR_PALETTE)
    #: How far (pixels) a box may reach outside its image.
    BOX_TOLERANCE = 1.0

    def __init__(self,
                 *args,
                 unknown_class: str = 'error',
                 check_images: bool = True,
                 **kwargs) -> None:
        if unknown_class not in ('error', 'warn'):
            raise ValueError("unknown_class must be 'error' or 'warn', "
                             f'got {unknown_class!r}')
        self.unknown_class = unknown_class
        self.check_images = check_images
        self.unknown_objects: Counter = Counter()
        self.missing_images: list[str] = []
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> list[dict]:
        """Read the image-set file and parse each listed annotation."""
        classes = self._metainfo.get('classes')
        if not classes:
            raise ValueError('CXRVOCDataset needs metainfo classes')
        self.cat2label = {cat: i for i, cat in enumerate(classes)}
        self.unknown_objects = Counter()
        self.missing_images = []
        data_list = []
        img_ids = list_from_file(self.ann_file, backend_args=self.backend_args)
        img_ids = [i.strip() for i in img_ids if i.strip()]
        for img_id in img_ids:
            _safe_relative(img_id, self.ann_file)
            xml_path = osp.join(self.sub_data_root, self.ann_subdir,
                                f'{img_id}.xml')
            info = self.parse_data_info(
                dict(img_id=img_id, xml_path=xml_path))
            if info is None:
                continue
            data_list.append(info)
        if self.unknown_objects:
            print_log(
                f'{type(self).__name__} ({self.ann_file}): dropped '
                f'{sum(self.unknown_objects.values())} objects of classes '
                f'outside the dataset: {dict(self.unknown_objects)}',
                logger='current',
                level=30)
        if self.missing_images:
            print_log(
                f'{type(self).__name__} ({self.ann_file}): skipped '
                f'{len(self.missing_images)} images missing on disk: '
                f'{self.missing_images[:10]}'
                f'{" ..." if len(self.missing_images) > 10 else ""}',
                logger='current',
                level=30)
        if not data_list:
            raise AnnotationError(
                f'{self.ann_file}: the image set yields no image (it lists '
                f'{len(img_ids)} ids, {len(self.missing_images)} of them '
                'missing on disk); an empty split cannot be trained or '
                'evaluated')
        return data_list

    def parse_data_info(self, img_info: dict) -> dict | None:
        """Parse one annotation file into mmdet's data-info dict."""
        xml_path = img_info['xml_path']
        with get_local_path(
                xml_path, backend_args=self.backend_args) as local_path:
            ann = parse_voc_xml(xml_path, local_path)
        file_name = ann['filename'] or f'{img_info["img_id"]}.png'
        img_path = osp.join(self.sub_data_root, self.img_subdir, file_name)
        if self.check_images and '://' not in img_path \
                and not osp.isfile(img_path):
            self.missing_images.append(img_path)
            return None
        width, height = ann['width'], ann['height']
        if width is None or height is None:
            from PIL import Image
            try:
                with Image.open(img_path) as im:
                    width, height = im.size
            except Exception as e:  # any decoder error
                raise AnnotationError(
                    f'{xml_path}: no <size>, and the size of {img_path!r} '
                    f'cannot be read ({type(e).__name__}: {e})') from e
        elif self.check_images and '://' not in img_path:
            check_image_size(img_path, xml_path, width, height)
        instances = []
        img_labels = [0] * len(self.cat2label)
        boxed = [0] * len(self.cat2label)
        for obj in ann['objects']:
            label = self.cat2label.get(obj['name'])
            if label is None:
                if self.unknown_class == 'error':
                    raise AnnotationError(
                        f'{xml_path}: unknown class {obj["name"]!r}; known: '
                        f'{list(self.cat2label)}. Set '
                        "unknown_class='warn' to skip and count them.")
                self.unknown_objects[obj['name']] += 1
                continue
            bbox = obj['bbox']
            tol = self.BOX_TOLERANCE
            if (bbox[0] < -tol or bbox[1] < -tol or bbox[2] > width + tol
                    or bbox[3] > height + tol):
                raise AnnotationError(
                    f'{xml_path}: object {obj["name"]!r} has a box '
                    f'{[v + 1 for v in bbox]!r} outside the image '
                    f'({width} x {height})')
            ignore = bool(obj['difficult'])
            min_size = self.bbox_min_size
            if min_size is not None and not self.test_mode and (
                    bbox[2] - bbox[0] < min_size
                    or bbox[3] - bbox[1] < min_size):
                ignore = True
            instances.append(
                dict(
                    bbox=bbox, bbox_label=label,
                    ignore_flag=int(ignore)))
            img_labels[label] = 1
            boxed[label] = 1
        for name in ann['image_labels'] or ():
            label = self.cat2label.get(name)
            if label is None:
                if self.unknown_class == 'error':
                    raise AnnotationError(
                        f'{xml_path}: unknown class {name!r} in '
                        f'<image_labels>; known: {list(self.cat2label)}. '
                        "Set unknown_class='warn' to skip and count them.")
                self.unknown_objects[name] += 1
                continue
            img_labels[label] = 1
        ignored_labels = [
            c for c, (on, box) in enumerate(zip(img_labels, boxed))
            if on and not box
        ]
        return dict(
            img_id=img_info['img_id'],
            img_path=img_path,
            xml_path=xml_path,
            width=width,
            height=height,
            instances=instances,
            img_labels=img_labels,
            ignored_labels=ignored_labels,
            source=ann['source'] or 'unknown',
            group=ann['group'] or f'image:{img_info["img_id"]}')

    def get_img_labels(self, idx: int) -> np.ndarray:
        """Return the (num_classes,) 0/1 label vector of sample ``idx``."""
        return np.asarray(self.get_data_info(idx)['img_labels'], np.int64)

    def prepare_data(self, idx: int):
        """Run the pipeline; in test mode a failed image is an error."""
        data = super().prepare_data(idx)
        if data is None and self.test_mode:
            raise RuntimeError(
                f'{type(self).__name__}: cannot load '
                f'{self.get_data_info(idx)["img_path"]!r} in test mode '
                '(see the warning above); fix or remove it from the '
                'image set, since an evaluation cannot replace samples')
        return data
