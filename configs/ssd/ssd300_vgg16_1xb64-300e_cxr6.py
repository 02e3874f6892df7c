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
    # the weights come from load_from (COCO SSD300, see below); offline
    # without it, set init_cfg=dict(type='Pretrained',
    # checkpoint='open-mmlab://vgg16_caffe') for ImageNet VGG16 weights
    backbone=dict(init_cfg=None),
    bbox_head=dict(
        type='ClassWeightedSSDHead',
        num_classes=6,
        # weight_c proportional to 1 / E[boxes of class c per epoch] under
        # the sampler's draw, mean 1; filled by ClassWeightHook before
        # training, saved in checkpoints
        class_weight='inverse_frequency'),
    # per-class NMS as one NMS over all classes with coordinate offsets
    # (mmcv's batched_nms loops over the classes above split_thr boxes):
    # the same boxes kept
    test_cfg=dict(nms=dict(split_thr=0)))

# negatives (images without boxes) stay in the training set: the
# sampler's neg_fraction decides how often they are drawn
train_dataloader = dict(
    batch_size=64,
    sampler=dict(_delete_=True, type='CXRBalancedSampler', neg_fraction=0.1),
    dataset=dict(filter_cfg=dict(filter_empty_gt=False)))

# schedule: 300 epochs, SGD lr 1e-4; linear warm-up from 0.001x over the
# first warmup_epochs (stepped every iteration), then the LR is halved when
# the val COCO mAP has not risen by a unit of its 3rd decimal (threshold
# 0.0005, abs) for patience + 1 validations, never below min_lr
max_epochs = 300
base_lr = 1e-4
min_lr = 1e-5
warmup_epochs = 5
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=base_lr, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.001,
        by_epoch=True,
        convert_to_iter_based=True,
        begin=0,
        end=warmup_epochs),
    dict(
        type='ReduceOnPlateauLR',
        monitor='coco/bbox_mAP',
        rule='greater',
        factor=0.5,
        patience=3,
        threshold=0.0005,
        threshold_rule='abs',
        min_value=min_lr,
        begin=warmup_epochs,
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
    # val thresholds for 0.9 sensitivity and 1 FP/image of the best epoch
    dict(type='OperatingPointsHook'),
    # exact resume: random state in checkpoints; epoch checkpoints
    # re-saved after their validation (ReduceOnPlateau state)
    dict(type='RNGStateHook'),
    dict(type='CheckpointAfterValHook'),
    # channels-last (NHWC) weights for training and testing
    dict(type='ChannelsLastHook'),
]
env_cfg = dict(cudnn_benchmark=True)
# COCO-pretrained SSD300, mmdet's published checkpoint (configs/ssd/
# metafile.yml), downloaded once into torch's hub cache. Its 81-class
# classifier layers are skipped (shape mismatch) and the 6-class ones start
# fresh. Offline: --cfg-options load_from=PATH of a downloaded copy, or
# load_from=None with the ImageNet VGG16 init above.
load_from = ('https://download.openmmlab.com/mmdetection/v2.0/ssd/'
             'ssd300_coco/ssd300_coco_20210803_015428-d231a06e.pth')
auto_scale_lr = dict(enable=False, base_batch_size=64)
