# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Run a trained detector on PNG, JPEG or DICOM radiographs."""
from __future__ import annotations

import copy
import json
import os
import os.path as osp
from collections.abc import Iterable, Sequence

import numpy as np

from ..data_prep.image_io import read_image_uint8

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.dcm', '.dicom')


def collect_inputs(inputs: Iterable[str]) -> list[str]:
    """Expand files and folders into a sorted list of image files.

    Raises:
        FileNotFoundError: an input that does not exist.
        ValueError: no image file found at all.
    """
    found: list[str] = []
    for item in inputs:
        if osp.isdir(item):
            for dirpath, _, names in os.walk(item):
                found += [
                    osp.join(dirpath, n) for n in sorted(names)
                    if n.lower().endswith(IMAGE_EXTENSIONS)
                ]
        elif osp.isfile(item):
            found.append(item)
        else:
            raise FileNotFoundError(f'input not found: {item!r}')
    if not found:
        raise ValueError(f'no image files ({", ".join(IMAGE_EXTENSIONS)}) '
                         f'in {list(inputs)!r}')
    return sorted(dict.fromkeys(found))


def build_inference_pipeline(cfg) -> list[dict]:
    """The config's test pipeline for in-memory images, without labels."""
    pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    steps = []
    for step in pipeline:
        kind = step['type'].split('.')[-1]
        if kind in ('LoadAnnotations', ):
            continue
        if 'LoadImage' in kind:
            step = dict(type='mmdet.LoadImageFromNDArray')
        if kind == 'PackDetInputs':
            step = dict(
                type='PackDetInputs',
                meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                           'scale_factor'))
        steps.append(step)
    return steps


def load_detector(config: str, checkpoint: str, device: str = 'cpu'):
    """Build the model and load a checkpoint (safe loader, see compat)."""
    import cxr_mmdet  # noqa: F401  registers the plugin
    from mmdet.apis import init_detector
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'no checkpoint at {checkpoint!r}')
    return init_detector(config, checkpoint, device=device)


def predict_images(model,
                   paths: Sequence[str],
                   score_thr: float = 0.3,
                   progress: bool = True,
                   amp: bool = False) -> list[dict]:
    """Detect on each image; boxes are in the input image's pixel frame.

    ``amp`` runs the model under autocast: bf16 on CPU, fp16 on CUDA (the
    head's decoding and NMS stay fp32, see :mod:`cxr_mmdet.compat`).

    Returns:
        list[dict]: per image ``file``, ``width``, ``height`` and
        ``detections`` (``bbox`` [x1, y1, x2, y2], ``label``, ``class``,
        ``score``), highest score first.
    """
    import torch
    from mmcv.transforms import Compose
    from mmdet.apis import inference_detector
    from mmengine.utils import ProgressBar
    pipeline = Compose(build_inference_pipeline(model.cfg))
    classes = model.dataset_meta['classes']
    device_type = next(model.parameters()).device.type
    amp_dtype = torch.bfloat16 if device_type == 'cpu' else torch.float16
    results = []
    bar = ProgressBar(len(paths)) if progress else None
    for path in paths:
        gray = read_image_uint8(path)
        img = np.ascontiguousarray(np.repeat(gray[..., None], 3, axis=2))
        with torch.autocast(device_type, dtype=amp_dtype, enabled=amp):
            sample = inference_detector(
                model, img, test_pipeline=pipeline)
        pred = sample.pred_instances
        keep = pred.scores >= score_thr
        boxes = pred.bboxes[keep].cpu().numpy().astype(float)
        scores = pred.scores[keep].cpu().numpy().astype(float)
        labels = pred.labels[keep].cpu().numpy().astype(int)
        order = np.argsort(-scores, kind='stable')
        results.append(
            dict(
                file=osp.abspath(path),
                width=int(gray.shape[1]),
                height=int(gray.shape[0]),
                detections=[
                    dict(
                        bbox=[round(v, 2) for v in boxes[i].tolist()],
                        label=int(labels[i]),
                        **{'class': classes[labels[i]]},
                        score=round(float(scores[i]), 4)) for i in order
                ]))
        if bar is not None:
            bar.update()
    return results


def draw_overlay(path: str, result: dict, out_path: str,
                 palette: Sequence[Sequence[int]]) -> None:
    """Write ``out_path``: the image with its detections drawn on it."""
    from PIL import Image, ImageDraw
    gray = read_image_uint8(path)
    img = Image.fromarray(gray).convert('RGB')
    draw = ImageDraw.Draw(img)
    width = max(1, round(max(img.size) / 300))
    for det in result['detections']:
        color = tuple(int(c) for c in palette[det['label'] % len(palette)])
        x1, y1, x2, y2 = det['bbox']
        draw.rectangle([x1, y1, x2, y2], outline=color, width=width)
        draw.text((x1 + 2, max(0, y1 - 12)),
                  f'{det["class"]} {det["score"]:.2f}', fill=color)
    img.save(out_path)


def run_inference(config: str,
                  checkpoint: str,
                  inputs: Iterable[str],
                  out_dir: str,
                  score_thr: float = 0.3,
                  device: str = 'cpu',
                  amp: bool = False) -> str:
    """Detect on every input, write ``predictions.json`` and overlays.

    Returns:
        str: the path of ``predictions.json``.
    """
    paths = collect_inputs(inputs)
    model = load_detector(config, checkpoint, device)
    results = predict_images(model, paths, score_thr, amp=amp)
    os.makedirs(out_dir, exist_ok=True)
    palette = model.dataset_meta.get('palette') or [(255, 0, 0)]
    used = set()
    for path, result in zip(paths, results):
        stem = osp.splitext(osp.basename(path))[0]
        name, k = stem, 1
        while name in used:  # same stem in two folders
            name, k = f'{stem}_{k}', k + 1
        used.add(name)
        result['overlay'] = osp.join(out_dir, f'{name}_pred.png')
        draw_overlay(path, result, result['overlay'], palette)
    out_file = osp.join(out_dir, 'predictions.json')
    with open(out_file, 'w') as f:
        json.dump(
            dict(config=config, checkpoint=osp.abspath(checkpoint),
                 score_thr=score_thr, images=results), f, indent=1)
    return out_file
