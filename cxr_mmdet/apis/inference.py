# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Run a trained detector on PNG, JPEG or DICOM radiographs.

Each input is decoded and resized exactly as data preparation writes its
PNGs (:func:`~cxr_mmdet.data_prep.image_io.read_image_uint8`, then
:func:`~cxr_mmdet.data_prep.image_io.resize_to_square` to the dataset's
side), handed as an array to mmdet's ``DetInferencer`` running the config's
test pipeline, and its boxes are mapped back to the input's own pixel
frame. Inputs that cannot be decoded are listed with their reason and the
others go on.

The same prepared array can instead go to an exported ONNX graph on ONNX
Runtime or OpenVINO (:mod:`cxr_mmdet.deployment`: the test pipeline's
resize and normalisation and mmdet's SSD post-processing in numpy), and
several checkpoints or graphs and left-right flips can be fused by WBF.
"""
from __future__ import annotations

import copy
import json
import os
import os.path as osp
from collections.abc import Iterable, Sequence

import numpy as np

from ..data_prep.image_io import read_image_uint8, resize_to_square
from ..deployment.wbf_fusion import WBF_IOU_THR
from .checkpoint import (CheckpointError, check_checkpoint_fits,
                         checkpoint_unreadable_reason)

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.dcm', '.dicom')


def collect_inputs(inputs: Iterable[str]) -> list[str]:
    """Expand files and folders into a sorted list of image files.

    Raises:
        FileNotFoundError: an input that does not exist.
        ValueError: no image file found at all.
    """
    inputs = list(inputs)
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
                         f'in {inputs!r}')
    return sorted(dict.fromkeys(found))


def prepare_out_dir(out_dir: str) -> str:
    """Create ``out_dir`` (or check it) before any inference is run.

    Raises:
        ValueError: naming ``--out-dir``, if it is a file, cannot be
            created or is not writable.
    """
    if osp.exists(out_dir) and not osp.isdir(out_dir):
        raise ValueError(f'--out-dir {out_dir!r} is a file, not a folder')
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as err:
        raise ValueError(f'--out-dir {out_dir!r} cannot be created: '
                         f'{err.strerror}') from err
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise ValueError(f'--out-dir {out_dir!r} is not writable')
    return out_dir


def dataset_image_size(cfg) -> int:
    """The side prep resized the config's dataset to.

    Read from ``summary.json`` (``arguments.size``), which prep writes
    beside the ``VOCdevkit`` folder that the config's ``data_root`` names;
    prep's default size when that file is not there.
    """
    from ..data_prep import PrepareConfig
    data_root = cfg.get('data_root') or cfg.test_dataloader.dataset.get(
        'data_root', '')
    summary = osp.join(osp.dirname(osp.normpath(str(data_root))),
                       'summary.json')
    if data_root and osp.isfile(summary):
        try:
            with open(summary, encoding='utf-8') as f:
                size = json.load(f)['arguments']['size']
            return int(size)
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return PrepareConfig.__dataclass_fields__['size'].default


def build_inference_pipeline(cfg) -> list[dict]:
    """The config's test pipeline for in-memory images, without labels."""
    pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    steps = []
    for step in pipeline:
        kind = step['type'].split('.')[-1]
        if kind in ('LoadAnnotations', ):
            continue
        if 'LoadImage' in kind:
            step = dict(type='mmdet.InferencerLoader')
        if kind == 'PackDetInputs':
            step = dict(
                type='PackDetInputs',
                meta_keys=('img_path', 'ori_shape', 'img_shape',
                           'scale_factor'))
        steps.append(step)
    return steps


def _detector_inferencer_class():
    """:class:`CXRDetInferencer`, built on first use (imports mmdet)."""
    from mmdet.apis import DetInferencer

    class CXRDetInferencer(DetInferencer):
        """``DetInferencer`` for arrays decoded as prep decodes them.

        - the test pipeline starts from an array (the config's loader is
          replaced, its ``LoadAnnotations`` dropped);
        - the checkpoint must fit the model exactly, or
          :class:`CheckpointError` names the file and the keys;
        - without class names in the checkpoint, the config's dataset
          names them (not COCO's).
        """

        def __init__(self, config: str, checkpoint: str,
                     device: str = 'cpu') -> None:
            reason = checkpoint_unreadable_reason(checkpoint)
            if reason is not None:
                raise CheckpointError(
                    f'checkpoint {checkpoint!r} cannot be loaded: {reason}')
            self._checkpoint_path = checkpoint
            super().__init__(
                model=config,
                weights=checkpoint,
                device=device,
                show_progress=False)

        def _init_model(self, cfg, weights, device='cpu'):
            """The model as the test loop runs it (channels-last when the
            config's ``ChannelsLastHook`` converts it for testing)."""
            model = super()._init_model(cfg, weights, device)
            hooks = [h.get('type', '') for h in cfg.get('custom_hooks', [])]
            if any(str(h).split('.')[-1] == 'ChannelsLastHook'
                   for h in hooks):
                from ..engine.hooks.channels_last_hook import \
                    to_channels_last
                to_channels_last(model)
            return model

        def _init_pipeline(self, cfg):
            from mmengine.dataset import Compose
            return Compose(build_inference_pipeline(cfg))

        def _load_weights_to_model(self, model, checkpoint, cfg) -> None:
            path = self._checkpoint_path
            if not isinstance(checkpoint, dict):
                raise CheckpointError(
                    f'checkpoint {path!r} holds a '
                    f'{type(checkpoint).__name__}, not a dict')
            check_checkpoint_fits(model, checkpoint, path)
            meta = checkpoint.get('meta') or {}
            if 'dataset_meta' not in meta and 'CLASSES' not in meta:
                from mmdet.registry import DATASETS
                dataset = copy.deepcopy(cfg.test_dataloader.dataset)
                dataset['lazy_init'] = True
                meta = dict(meta, dataset_meta=dict(
                    DATASETS.build(dataset).metainfo))
                checkpoint = dict(checkpoint, meta=meta)
            super()._load_weights_to_model(model, checkpoint, cfg)
            classes = model.dataset_meta['classes']
            head = getattr(model, 'bbox_head', None)
            num = getattr(head, 'num_classes', len(classes))
            if len(classes) != num:
                raise CheckpointError(
                    f'checkpoint {path!r} names {len(classes)} classes '
                    f'{list(classes)!r} but the model predicts {num}')

    return CXRDetInferencer


def load_detector(config: str, checkpoint: str, device: str = 'cpu'):
    """Build the inferencer: the model with an exactly fitting checkpoint.

    Raises:
        FileNotFoundError: no config or checkpoint file.
        CheckpointError: a checkpoint that is empty, truncated or does not
            fit the model (naming the keys).
    """
    import cxr_mmdet  # noqa: F401  registers the plugin
    if not osp.isfile(config):
        raise FileNotFoundError(f'no config file at {config!r}')
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'no checkpoint at {checkpoint!r}')
    return _detector_inferencer_class()(config, checkpoint, device)


def prepare_input(path: str, size: int) -> tuple[np.ndarray, int, int]:
    """Decode and resize one input as prep does.

    Returns:
        tuple: the 3-channel ``uint8`` array ``(size, size, 3)`` (or the
        original size when ``size`` is 0), and the input's own width and
        height.

    Raises:
        ValueError: naming the file, if it cannot be decoded.
    """
    gray = read_image_uint8(path)
    height, width = gray.shape
    resized = resize_to_square(gray, size)
    img = np.ascontiguousarray(np.repeat(resized[..., None], 3, axis=2))
    return img, width, height


def detections_in_input_frame(dets, resized_size: tuple[int, int],
                              width: int, height: int,
                              classes: Sequence[str],
                              score_thr: float | Sequence[float]
                              ) -> list[dict]:
    """Detections mapped from the resized image to the input, those
    scoring at least ``score_thr`` (one threshold, or one per class) kept.

    Args:
        dets (Detections): boxes in the resized image's frame.
        resized_size: ``(width, height)`` of the resized image.

    Returns:
        list[dict]: ``bbox`` [x1, y1, x2, y2] in the input's pixels,
        ``label``, ``class`` and ``score``, highest score first.
    """
    scale = np.array([width / resized_size[0], height / resized_size[1]] * 2)
    labels_all = dets.labels.astype(int)
    if np.ndim(score_thr):
        thr = np.asarray(score_thr, np.float64)[labels_all]
    else:
        thr = score_thr
    keep = dets.scores.astype(np.float64) >= thr
    boxes = dets.boxes[keep].astype(float) * scale
    scores = dets.scores[keep].astype(float)
    labels = labels_all[keep]
    order = np.argsort(-scores, kind='stable')
    return [
        dict(
            bbox=[round(v, 2) for v in boxes[i].tolist()],
            label=int(labels[i]),
            **{'class': classes[labels[i]]},
            score=round(float(scores[i]), 4)) for i in order
    ]


class PyTorchDetector:
    """``detector(img)``: the checkpoint's detections on one (H, W, 3)
    uint8 image through mmdet's ``DetInferencer`` (the config's test
    pipeline), boxes in ``img``'s frame, as
    :class:`~cxr_mmdet.deployment.Detections`.

    Args:
        inferencer: from :func:`load_detector`.
        amp: run the model under autocast, bf16 on CPU and fp16 on CUDA
            (the head's decoding and NMS stay fp32, see
            :mod:`cxr_mmdet.compat`).
    """

    def __init__(self, inferencer, amp: bool = False) -> None:
        self.inferencer = inferencer
        self.amp = amp
        self.classes = list(inferencer.model.dataset_meta['classes'])

    def __call__(self, img: np.ndarray):
        import torch

        from ..deployment import Detections
        device_type = next(self.inferencer.model.parameters()).device.type
        amp_dtype = torch.bfloat16 if device_type == 'cpu' else torch.float16
        with torch.autocast(device_type, dtype=amp_dtype, enabled=self.amp):
            out = self.inferencer([img],
                                  return_datasamples=True,
                                  no_save_vis=True,
                                  no_save_pred=True)
        pred = out['predictions'][0].pred_instances
        return Detections.of(pred.bboxes, pred.scores, pred.labels)


def predict_images(detector,
                   paths: Sequence[str],
                   score_thr: float = 0.3,
                   size: int = 0,
                   progress: bool = True) -> tuple[list[dict], list[dict]]:
    """Detect on each image; boxes are in the input image's pixel frame.

    Args:
        detector: a callable ``img -> Detections`` with ``classes``
            (:class:`PyTorchDetector`, a
            :class:`~cxr_mmdet.deployment.BackendDetector` or a
            :class:`~cxr_mmdet.deployment.FusedDetector`).
        size: the side prep resized the training data to (0: none).

    Returns:
        tuple: per readable image ``file``, ``width``, ``height`` and
        ``detections`` (see :func:`detections_in_input_frame`); per
        unreadable image ``file`` and ``reason``.
    """
    from mmengine.logging import print_log
    from mmengine.utils import ProgressBar
    results, failed = [], []
    bar = ProgressBar(len(paths)) if progress else None
    for path in paths:
        try:
            img, width, height = prepare_input(path, size)
        except ValueError as err:
            failed.append(dict(file=osp.abspath(path), reason=str(err)))
            # the message names the file
            print_log(f'skipped an unreadable input: {err}',
                      logger='current',
                      level=30)
        else:
            dets = detector(img)
            results.append(
                dict(
                    file=osp.abspath(path),
                    width=int(width),
                    height=int(height),
                    detections=detections_in_input_frame(
                        dets, (img.shape[1], img.shape[0]), width, height,
                        detector.classes, score_thr)))
        if bar is not None:
            bar.update()
    return results, failed


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


#: ``--backend`` choices.
INFERENCE_BACKENDS = ('pytorch', 'onnxruntime', 'openvino')


def build_detector(config: str,
                   checkpoint: str,
                   device: str = 'cpu',
                   amp: bool = False,
                   backend: str = 'pytorch',
                   onnx: Sequence[str] = (),
                   ensemble: Sequence[str] = (),
                   tta: str = 'none',
                   wbf_iou_thr: float = WBF_IOU_THR,
                   wbf_skip_thr: float = 0.0,
                   backend_options: dict | None = None):
    """The detector :func:`run_inference` runs, and the config.

    ``backend='pytorch'``: the checkpoint and each ``ensemble`` checkpoint
    through mmdet; otherwise each ``onnx`` graph (exported by
    ``tools/deployment/export_onnx.py``) on that backend. Several
    detectors or ``tta='flip'`` are fused by WBF
    (:class:`~cxr_mmdet.deployment.FusedDetector`).

    Returns:
        tuple: the detector and the config (mmengine ``Config``).
    """
    from mmengine.config import Config

    from ..deployment import FusedDetector, load_backend_detector
    if backend not in INFERENCE_BACKENDS:
        raise ValueError(f'--backend must be one of {INFERENCE_BACKENDS}, '
                         f'got {backend!r}')
    if backend == 'pytorch':
        if onnx:
            raise ValueError('--onnx goes with --backend onnxruntime or '
                             'openvino, not pytorch')
        inferencers = [
            load_detector(config, path, device)
            for path in [checkpoint, *ensemble]
        ]
        cfg = inferencers[0].cfg
        detectors = [PyTorchDetector(inf, amp) for inf in inferencers]
    else:
        if not onnx:
            raise ValueError(f'--backend {backend} needs --onnx FILE')
        if ensemble:
            raise ValueError('--ensemble takes checkpoints (--backend '
                             'pytorch); pass several --onnx files instead')
        if not osp.isfile(config):
            raise FileNotFoundError(f'no config file at {config!r}')
        cfg = Config.fromfile(config)
        detectors = [
            load_backend_detector(backend, path, **(backend_options or {}))
            for path in onnx
        ]
    max_dets = (cfg.model.get('test_cfg') or {}).get('max_per_img')
    fused = FusedDetector(detectors, tta, wbf_iou_thr, wbf_skip_thr,
                          max_dets)
    return fused, cfg


def run_inference(config: str,
                  checkpoint: str,
                  inputs: Iterable[str],
                  out_dir: str,
                  score_thr: float = 0.3,
                  device: str = 'cpu',
                  size: int | None = None,
                  progress: bool = True,
                  amp: bool = False,
                  operating_point: str | None = None,
                  **detector_options) -> dict:
    """Detect on every input, write ``predictions.json`` and overlays.

    Args:
        score_thr: The score a detection needs to be kept.
        operating_point: Per-class thresholds instead of ``score_thr``:
            see :func:`~cxr_mmdet.apis.operating_point_thresholds`.
        size: the side inputs are resized to before the test pipeline;
            None reads it from the dataset (:func:`dataset_image_size`).
        **detector_options: :func:`build_detector`'s (``backend``,
            ``onnx``, ``ensemble``, ``tta``, ``wbf_iou_thr``,
            ``wbf_skip_thr``, ``backend_options``).

    Returns:
        dict: what ``predictions.json`` holds, plus ``out_file`` (its path).
        ``images`` are the readable inputs, ``failed`` the others with
        their reason.
    """
    from ..classes import CXR_CLASSES, CXR_PALETTE
    if not 0 <= score_thr <= 1:
        raise ValueError(f'--score-thr must be in [0, 1], got {score_thr!r}')
    if size is not None and size < 0:
        raise ValueError(f'--prep-size must be >= 0, got {size!r}')
    paths = collect_inputs(inputs)
    prepare_out_dir(out_dir)
    detector, cfg = build_detector(config, checkpoint, device, amp,
                                   **detector_options)
    if operating_point is not None:
        from .operating_points import operating_point_thresholds
        score_thr = operating_point_thresholds(operating_point, checkpoint,
                                               detector.classes)
    if size is None:
        size = dataset_image_size(cfg)
    results, failed = predict_images(detector, paths, score_thr, size,
                                     progress)
    first = detector.detectors[0]
    meta = first.inferencer.model.dataset_meta if isinstance(
        first, PyTorchDetector) else {}
    palette = meta.get('palette')
    if detector.classes == list(CXR_CLASSES) and not palette:
        palette = CXR_PALETTE
    if not isinstance(palette, (list, tuple)) or not palette:
        palette = [(255, 0, 0)]
    used = set()
    for result in results:
        path = result['file']
        stem = osp.splitext(osp.basename(path))[0]
        name, k = stem, 1
        while name in used:  # same stem in two folders
            name, k = f'{stem}_{k}', k + 1
        used.add(name)
        result['overlay'] = osp.join(out_dir, f'{name}_pred.png')
        draw_overlay(path, result, result['overlay'], palette)
    options = dict(detector_options)
    options.setdefault('backend', 'pytorch')
    record = dict(
        config=config,
        checkpoint=osp.abspath(checkpoint),
        score_thr=score_thr,
        operating_point=operating_point,
        prep_size=size,
        backend=options['backend'],
        onnx=[osp.abspath(p) for p in options.get('onnx', ())],
        ensemble=[osp.abspath(p) for p in options.get('ensemble', ())],
        tta=options.get('tta', 'none'),
        images=results,
        failed=failed)
    if len(detector.detectors) > 1 or record['tta'] != 'none':
        record['wbf'] = dict(
            iou_thr=options.get('wbf_iou_thr', WBF_IOU_THR),
            skip_thr=options.get('wbf_skip_thr', 0.0))
    out_file = osp.join(out_dir, 'predictions.json')
    with open(out_file, 'w', encoding='utf-8') as f:
        json.dump(record, f, indent=1)
    return dict(record, out_file=out_file)


def inference_exit_code(record: dict, strict: bool = False) -> int:
    """1 if no input could be read, or with ``strict`` if any could not."""
    if not record['images'] or (strict and record['failed']):
        return 1
    return 0
