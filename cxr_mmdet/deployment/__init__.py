# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Deployment: ONNX export, its meta JSON, the ONNX Runtime and OpenVINO
runners (optional ``deploy`` extra, imported on first use) and WBF fusion
of ensembles and flips."""
from .backend_detector import BackendDetector
from .backends import BACKENDS, load_backend_detector
from .deploy_meta import (DeployMeta, deploy_meta_path, read_deploy_meta,
                          write_deploy_meta)
from .detections import Detections
from .extras import MissingExtraError, require
from .fused_detector import TTA_MODES, FusedDetector
from .onnx_export import (OPSET, SSDRawOutputs, export_detector,
                          export_onnx, pipeline_input_size)
from .onnxruntime_detector import ONNXRuntimeDetector
from .openvino_detector import OpenVINODetector
from .postprocess import decode_deltas, ssd_detections
from .preprocess import to_network_input
from .wbf_fusion import WBF_IOU_THR, fuse_detections

__all__ = [
    'BackendDetector', 'BACKENDS', 'load_backend_detector', 'DeployMeta',
    'deploy_meta_path', 'read_deploy_meta', 'write_deploy_meta',
    'Detections', 'MissingExtraError', 'require', 'TTA_MODES',
    'FusedDetector', 'ONNXRuntimeDetector', 'OpenVINODetector',
    'decode_deltas', 'ssd_detections', 'to_network_input', 'WBF_IOU_THR',
    'fuse_detections', 'export_onnx', 'export_detector', 'OPSET',
    'SSDRawOutputs', 'pipeline_input_size'
]

