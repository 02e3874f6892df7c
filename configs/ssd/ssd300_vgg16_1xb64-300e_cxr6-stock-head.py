# Imbalance ablation, no rebalancing: the stock SSDHead (no class weights)
# and mmengine's DefaultSampler over the images with boxes (mmdet's VOC
# default); everything else as the main config. The other variants:
# -sampler-only, -weights-only and the main config (both).
_base_ = './ssd300_vgg16_1xb64-300e_cxr6.py'

model = dict(
    bbox_head=dict(
        _delete_=True,
        type='SSDHead',
        in_channels=(512, 1024, 512, 256, 256, 256),
        num_classes=6,
        anchor_generator=dict(
            type='SSDAnchorGenerator',
            scale_major=False,
            input_size=300,
            basesize_ratio_range=(0.15, 0.9),
            strides=[8, 16, 32, 64, 100, 300],
            ratios=[[2], [2, 3], [2, 3], [2, 3], [2], [2]]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[0.1, 0.1, 0.2, 0.2])))
train_dataloader = dict(
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(filter_cfg=dict(filter_empty_gt=True)))
custom_hooks = [
    dict(type='NumClassCheckHook'),
    dict(type='CheckInvalidLossHook', interval=50, priority='VERY_LOW'),
    dict(type='CheckpointMetricsHook'),
    dict(type='ROCCurveHook'),
    # exact resume: random state in checkpoints; epoch checkpoints
    # re-saved after their validation (ReduceOnPlateau state)
    dict(type='RNGStateHook'),
    dict(type='CheckpointAfterValHook'),
    dict(type='ChannelsLastHook'),
]
