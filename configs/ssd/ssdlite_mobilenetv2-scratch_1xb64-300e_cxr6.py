# SSDLite-MobileNetV2 variant (CPU friendly, trained from scratch): the
# model of mmdet's ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py with the
# class-weighted 6-class head; data, schedule and hooks inherited.
_base_ = './ssd300_vgg16_1xb64-300e_cxr6.py'

input_size = 320
data_preprocessor = dict(
    type='DetDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_size_divisor=1)
model = dict(
    _delete_=True,
    type='SingleStageDetector',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='MobileNetV2',
        out_indices=(4, 7),
        norm_cfg=dict(type='BN', eps=0.001, momentum=0.03),
        init_cfg=dict(type='TruncNormal', layer='Conv2d', std=0.03)),
    neck=dict(
        type='SSDNeck',
        in_channels=(96, 1280),
        out_channels=(96, 1280, 512, 256, 256, 128),
        level_strides=(2, 2, 2, 2),
        level_paddings=(1, 1, 1, 1),
        l2_norm_scale=None,
        use_depthwise=True,
        norm_cfg=dict(type='BN', eps=0.001, momentum=0.03),
        act_cfg=dict(type='ReLU6'),
        init_cfg=dict(type='TruncNormal', layer='Conv2d', std=0.03)),
    bbox_head=dict(
        type='ClassWeightedSSDHead',
        class_weight='inverse_frequency',
        in_channels=(96, 1280, 512, 256, 256, 128),
        num_classes=6,
        use_depthwise=True,
        norm_cfg=dict(type='BN', eps=0.001, momentum=0.03),
        act_cfg=dict(type='ReLU6'),
        init_cfg=dict(type='Normal', layer='Conv2d', std=0.001),
        anchor_generator=dict(
            type='SSDAnchorGenerator',
            scale_major=False,
            strides=[16, 32, 64, 107, 160, 320],
            ratios=[[2, 3], [2, 3], [2, 3], [2, 3], [2, 3], [2, 3]],
            min_sizes=[48, 100, 150, 202, 253, 304],
            max_sizes=[100, 150, 202, 253, 304, 320]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[0.1, 0.1, 0.2, 0.2])),
    train_cfg=dict(
        assigner=dict(
            type='MaxIoUAssigner',
            pos_iou_thr=0.5,
            neg_iou_thr=0.5,
            min_pos_iou=0.,
            ignore_iof_thr=-1,
            gt_max_assign_all=False),
        sampler=dict(type='PseudoSampler'),
        smoothl1_beta=1.,
        allowed_border=-1,
        pos_weight=-1,
        neg_pos_ratio=3,
        debug=False),
    test_cfg=dict(
        nms_pre=1000,
        nms=dict(type='nms', iou_threshold=0.45, split_thr=0),
        min_bbox_size=0,
        score_thr=0.02,
        max_per_img=200))

# the SSD300 pipelines of _base_/datasets/cxr6_voc.py, resized to this size
train_pipeline, test_pipeline = ([
    dict(t, scale=(input_size, input_size)) if t['type'] == 'Resize' else t
    for t in pipeline
] for pipeline in (_base_.train_pipeline, _base_.test_pipeline))
# BatchNorm cannot train on a last batch of one image
train_dataloader = dict(drop_last=True, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
# merged into the base test_dataloader (test.txt)
test_dataloader = val_dataloader
# from scratch: the base's COCO SSD300-VGG16 checkpoint does not fit
load_from = None
