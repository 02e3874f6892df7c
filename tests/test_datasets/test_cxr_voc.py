# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""CXRVOCDataset reads back exactly what the VOC tree holds."""
from __future__ import annotations

import os.path as osp

import numpy as np
import pytest

import cxr_mmdet  # noqa: F401
from cxr_mmdet.classes import CXR_CLASSES
from cxr_mmdet.datasets import CXRVOCDataset
from cxr_mmdet.datasets.cxr_voc import AnnotationError


def _dataset(data_root, split='test', **kwargs):
    return CXRVOCDataset(
        data_root=data_root,
        ann_file=f'VOC2007/ImageSets/Main/{split}.txt',
        data_prefix=dict(sub_data_root='VOC2007/'),
        pipeline=[],
        **kwargs)


def test_boxes_filenames_and_labels_round_trip(voc_tree):
    data_root, truth = voc_tree
    ds = _dataset(data_root, test_mode=True)
    expected = [k for k, v in truth.items() if v['split'] == 'test']
    assert len(ds) == len(expected)
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        gt = truth[info['img_id']]
        # PNG from <filename>, not {id}.jpg
        assert info['img_path'].endswith(gt['filename'])
        assert osp.isfile(info['img_path'])
        boxes = np.array([ins['bbox'] for ins in info['instances']],
                         np.float64).reshape(-1, 4)
        labels = np.array([ins['bbox_label'] for ins in info['instances']])
        # float corners kept exactly (mmdet's XMLDataset truncates to int)
        np.testing.assert_allclose(boxes, gt['boxes'], atol=1e-6)
        np.testing.assert_array_equal(labels, gt['labels'])
        img_labels = np.zeros(len(CXR_CLASSES), np.int64)
        img_labels[gt['labels']] = 1
        np.testing.assert_array_equal(ds.get_img_labels(i), img_labels)
    assert ds.metainfo['classes'] == CXR_CLASSES
    assert ds.metainfo.get('dataset_type') != 'VOC2007'


def test_negatives_kept_in_test_filtered_in_train(voc_tree):
    data_root, truth = voc_tree
    test_ds = _dataset(data_root, test_mode=True)
    negatives = [
        i for i in range(len(test_ds))
        if not test_ds.get_data_info(i)['instances']
    ]
    assert len(negatives) == 1
    assert test_ds.get_img_labels(negatives[0]).sum() == 0
    train_ds = _dataset(
        data_root, split='trainval',
        filter_cfg=dict(filter_empty_gt=True))
    n_pos = sum(1 for v in truth.values()
                if v['split'] == 'trainval' and len(v['labels']))
    assert len(train_ds) == n_pos


def _write_xml(data_root, img_id, body):
    with open(osp.join(data_root, 'VOC2007', 'Annotations',
                       f'{img_id}.xml'), 'w') as f:
        f.write(body)


def test_unknown_class_is_an_error_or_counted(voc_tree):
    data_root, truth = voc_tree
    img_id = next(k for k, v in truth.items()
                  if v['split'] == 'test' and len(v['labels']))
    xml = osp.join(data_root, 'VOC2007', 'Annotations', f'{img_id}.xml')
    body = open(xml).read().replace(
        '</annotation>',
        '<object><name>Pneumothorax</name><difficult>0</difficult><bndbox>'
        '<xmin>2</xmin><ymin>2</ymin><xmax>9</xmax><ymax>9</ymax>'
        '</bndbox></object></annotation>')
    _write_xml(data_root, img_id, body)
    with pytest.raises(AnnotationError, match='Pneumothorax'):
        _dataset(data_root, test_mode=True)
    ds = _dataset(data_root, test_mode=True, unknown_class='warn')
    assert ds.unknown_objects == {'Pneumothorax': 1}
    # the known objects of that image are all still there
    idx = [ds.get_data_info(i)['img_id'] for i in range(len(ds))
           ].index(img_id)
    assert len(ds.get_data_info(idx)['instances']) == len(
        truth[img_id]['labels'])


@pytest.mark.parametrize('payload,match', [
    ('<!DOCTYPE a [<!ENTITY e "x"><!ENTITY f "&e;&e;&e;">]>'
     '<annotation><filename>&f;</filename></annotation>', 'unsafe XML'),
    ('<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     '<annotation><filename>&x;</filename></annotation>', 'unsafe XML'),
    ('<annotation><filename>../../etc/passwd</filename></annotation>',
     'relative path'),
    ('<annotation><filename>/etc/passwd</filename></annotation>',
     'relative path'),
    ('<annotation><filename>a.png</filename><object><name>Cardiomegaly'
     '</name><bndbox><xmin>5</xmin><ymin>5</ymin><xmax>4</xmax>'
     '<ymax>9</ymax></bndbox></object></annotation>', 'inverted'),
    ('<annotation><filename>a.png</filename><object><name>Cardiomegaly'
     '</name><bndbox><xmin>nan</xmin><ymin>5</ymin><xmax>4</xmax>'
     '<ymax>9</ymax></bndbox></object></annotation>', 'not finite'),
    ('<annotation><filename>a.png', 'malformed'),
])
def test_hostile_or_broken_xml_names_the_file(voc_tree, payload, match):
    data_root, truth = voc_tree
    img_id = next(k for k, v in truth.items() if v['split'] == 'test')
    _write_xml(data_root, img_id, payload)
    with pytest.raises(AnnotationError, match=match) as info:
        _dataset(data_root, test_mode=True)
    assert f'{img_id}.xml' in str(info.value)


def test_missing_image_is_skipped_and_counted(voc_tree):
    import os
    data_root, truth = voc_tree
    img_id = next(k for k, v in truth.items() if v['split'] == 'test')
    os.remove(osp.join(data_root, 'VOC2007', 'JPEGImages',
                       truth[img_id]['filename']))
    ds = _dataset(data_root, test_mode=True)
    assert len(ds.missing_images) == 1
    assert truth[img_id]['filename'] in ds.missing_images[0]
    assert img_id not in [ds.get_data_info(i)['img_id']
                          for i in range(len(ds))]


def _set_image_labels(data_root, img_id, names):
    """Add ``<image_labels>`` with ``names`` to one annotation file."""
    path = osp.join(data_root, 'VOC2007', 'Annotations', f'{img_id}.xml')
    with open(path) as f:
        text = f.read()
    element = '<image_labels>' + ''.join(
        f'<name>{n}</name>' for n in names) + '</image_labels>'
    with open(path, 'w') as f:
        f.write(text.replace('</annotation>', element + '</annotation>'))


def test_image_labels_or_boxes_and_ignored_labels(voc_tree):
    """``img_labels`` = ``<image_labels>`` OR the boxes; ``ignored_labels``
    = the labelled classes without a box; without the element both come
    from the boxes."""
    data_root, truth = voc_tree
    test_ids = sorted(k for k, v in truth.items() if v['split'] == 'test')
    positive = next(i for i in test_ids if len(truth[i]['labels']))
    boxed = set(truth[positive]['labels'].tolist())
    extra = min(set(range(len(CXR_CLASSES))) - boxed)
    _set_image_labels(data_root, positive, [CXR_CLASSES[extra]])
    negative = next(i for i in test_ids if not len(truth[i]['labels']))
    _set_image_labels(data_root, negative, [])
    ds = _dataset(data_root, test_mode=True)
    infos = {ds.get_data_info(i)['img_id']: ds.get_data_info(i)
             for i in range(len(ds))}
    got = infos[positive]
    expected = np.zeros(len(CXR_CLASSES), np.int64)
    expected[sorted(boxed | {extra})] = 1
    np.testing.assert_array_equal(got['img_labels'], expected)
    assert got['ignored_labels'] == [extra]
    assert infos[negative]['img_labels'] == [0] * len(CXR_CLASSES)
    assert infos[negative]['ignored_labels'] == []
    for img_id in set(test_ids) - {positive, negative}:
        labels = set(truth[img_id]['labels'].tolist())
        assert infos[img_id]['img_labels'] == [
            int(c in labels) for c in range(len(CXR_CLASSES))]
        assert infos[img_id]['ignored_labels'] == []
    other = next(i for i in test_ids if i not in (positive, negative))
    _set_image_labels(data_root, other, ['Pneumothorax'])
    with pytest.raises(AnnotationError, match="Pneumothorax.*image_labels"):
        _dataset(data_root, test_mode=True)


def test_test_pipeline_packs_ignored_labels(voc_tree):
    """The base config's test pipeline puts ``ignored_labels`` (and
    ``img_labels``) into each sample's metainfo."""
    from mmengine.config import Config
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(
        osp.join(root, 'configs', '_base_', 'datasets', 'cxr6_voc.py'))
    assert cfg.train_dataloader.dataset.ann_file.endswith('/train.txt')
    assert cfg.val_dataloader.dataset.ann_file.endswith('/val.txt')
    assert cfg.test_dataloader.dataset.ann_file.endswith('/test.txt')
    data_root, truth = voc_tree
    positive = next(k for k, v in truth.items()
                    if v['split'] == 'test' and len(v['labels']))
    extra = min(set(range(len(CXR_CLASSES))) -
                set(truth[positive]['labels'].tolist()))
    _set_image_labels(data_root, positive, [CXR_CLASSES[extra]])
    ds = _dataset(data_root, test_mode=True)
    ds.pipeline = ds.pipeline.__class__(cfg.test_pipeline)
    index = next(i for i in range(len(ds))
                 if ds.get_data_info(i)['img_id'] == positive)
    sample = ds[index]['data_samples']
    assert sample.metainfo['ignored_labels'] == [extra]
    assert sample.metainfo['img_labels'][extra] == 1


def test_sampler_draws_by_box_labels_not_boxless_findings(voc_tree):
    """A class labelled on an image without a box (``ignored_labels``)
    does not make the image a positive of that class for the sampler: the
    head never sees a box of it there."""
    from cxr_mmdet.datasets.samplers.cxr_balanced_sampler import (
        CXRBalancedSampler, image_labels_from_dataset)
    data_root, truth = voc_tree
    test_ids = sorted(k for k, v in truth.items() if v['split'] == 'test')
    negative = next(i for i in test_ids if not len(truth[i]['labels']))
    positive = next(i for i in test_ids if len(truth[i]['labels']))
    boxed = set(truth[positive]['labels'].tolist())
    extra = min(set(range(len(CXR_CLASSES))) - boxed)
    _set_image_labels(data_root, negative, [CXR_CLASSES[0]])
    _set_image_labels(data_root, positive, [CXR_CLASSES[extra]])
    ds = _dataset(data_root, test_mode=True)
    ids = [ds.get_data_info(i)['img_id'] for i in range(len(ds))]
    labels = image_labels_from_dataset(ds)
    assert ds.get_data_info(ids.index(negative))['img_labels'][0] == 1
    assert labels[ids.index(negative)].tolist() == [0] * len(CXR_CLASSES)
    assert labels[ids.index(positive)].tolist() == [
        int(c in boxed) for c in range(len(CXR_CLASSES))]
    for img_id in set(test_ids) - {negative, positive}:
        assert labels[ids.index(img_id)].tolist() == [
            int(c in set(truth[img_id]['labels'].tolist()))
            for c in range(len(CXR_CLASSES))]
    # the boxless image is drawn with the negatives' share
    sampler = CXRBalancedSampler(ds, seed=0, neg_fraction=0.5)
    negatives = [i for i, row in enumerate(labels) if not row.any()]
    assert ids.index(negative) in negatives
    np.testing.assert_allclose(sampler.probs[negatives],
                               0.5 / len(negatives))


def test_source_and_group_as_prep_writes_them(voc_tree):
    """``<source><database>`` and ``<source><group>`` (data prep's) give
    ``source`` and ``group``; without them: ``unknown`` and the image."""
    from cxr_mmdet.data_prep import voc_annotation
    import xml.etree.ElementTree as ET
    data_root, truth = voc_tree
    test_ids = sorted(k for k, v in truth.items() if v['split'] == 'test')
    written = {test_ids[0]: ('nih', 'nih:17'),
               test_ids[1]: ('vinbig', f'vinbig:{test_ids[1]}')}
    for img_id, (source, group) in written.items():
        path = osp.join(data_root, 'VOC2007', 'Annotations', f'{img_id}.xml')
        src = voc_annotation('x.png', 1, 1, [], source,
                             group=group).getroot().find('source')
        with open(path) as f:
            text = f.read()
        with open(path, 'w') as f:
            f.write(text.replace('</annotation>',
                                 ET.tostring(src, 'unicode') +
                                 '</annotation>'))
    ds = _dataset(data_root, test_mode=True)
    infos = {ds.get_data_info(i)['img_id']: ds.get_data_info(i)
             for i in range(len(ds))}
    for img_id, (source, group) in written.items():
        assert (infos[img_id]['source'], infos[img_id]['group']) == (
            source, group)
    assert (infos[test_ids[2]]['source'],
            infos[test_ids[2]]['group']) == ('unknown',
                                              f'image:{test_ids[2]}')
    with pytest.raises(ValueError, match='needs a source'):
        voc_annotation('x.png', 1, 1, [], None, group='nih:1')
