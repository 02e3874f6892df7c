# SSD300-VGG16 for the six chest X-ray classes.
# The same bases as mmdet's own ssd/ssd300_coco.py (model, schedule,
# runtime), with the COCO data swapped for the CXR VOC data; the SSD300
# augmentation pipeline is the stock one (see _base_/datasets/cxr6_voc.py).
_base_ = [
    'mmdet::_base_/models/ssd300.py',
    '../_base_/datasets/cxr6_voc.py',
    'mmdet::_base_/schedules/schedule_2x.py',
    'mmdet::_base_/default_runtime.py',
]
custom_imports = dict(imports=['cxr_mmdet'], allow_failed_imports=False)

model = dict(
    # nothing is downloaded: start from load_from (COCO SSD300, see below)
    # or set init_cfg=dict(type='Pretrained',
    # checkpoint='open-mmlab://vgg16_caffe') for ImageNet VGG16 weights
    backbone=dict(init_cfg=None),
    bbox_head=dict(
        type='ClassWeightedSSDHead',
        num_classes=6,
        # weight_c = total / count_c over the training boxes, mean 1;
        # filled by ClassWeightHook before training, saved in checkpoints
        class_weight='inverse_frequency'),
    # per-class NMS as one NMS over all classes with coordinate offsets
    # (mmcv's batched_nms loops over the classes above split_thr boxes):
    # the same boxes kept
    test_cfg=dict(nms=dict(split_thr=0)))

train_dataloader = dict(
    batch_size=64,
    sampler=dict(_delete_=True, type='CXRBalancedSampler'))

# schedule: 300 epochs, SGD lr 1e-4, LR halved when COCO mAP plateaus
max_epochs = 300
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=1e-4, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(
        type='ReduceOnPlateauLR',
        monitor='coco/bbox_mAP',
        rule='greater',
        factor=0.5,
        patience=3,
        by_epoch=True)
]

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(
        type='CheckpointHook',
        interval=20,
        max_keep_ckpts=-1,
        save_best='coco/bbox_mAP',
        rule='greater'))
custom_hooks = [
    dict(type='NumClassCheckHook'),
    dict(type='CheckInvalidLossHook', interval=50, priority='VERY_LOW'),
    dict(type='ClassWeightHook'),
    dict(type='CheckpointMetricsHook'),
    dict(type='ROCCurveHook'),
    # exact resume: random state in checkpoints; epoch checkpoints
    # re-saved after their validation (ReduceOnPlateau state)
    dict(type='RNGStateHook'),
    dict(type='CheckpointAfterValHook'),
    # channels-last (NHWC) weights for training and testing
    dict(type='ChannelsLastHook'),
]
env_cfg = dict(cudnn_benchmark=True)
# COCO-pretrained SSD300: a local path to mmdet's ssd300_coco checkpoint
# (see README); its 81-class classifier layers are skipped (shape mismatch)
# and the 6-class ones start fresh. None: train from the init above.
load_from = None
auto_scale_lr = dict(enable=False, base_batch_size=64)
